package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// GELU's derivative against the float64 formula Φ(x) + x·φ(x) (and its tanh form), computed
// with the standard library's erfc and tanh, independent of the vectorised kernels.
func TestGELUDerivatives(t *testing.T) {
	x := Arange(-6, 6, 0.01)
	ones := Ones(x.Shape()...)
	y, d := GELUWithDerivative(x)
	assert.Equal(t, GELU(x).Values(), y.Values())
	assert.Equal(t, GELUBackward(x, ones).Values(), d.Values())
	yt, dt := GELUTanhWithDerivative(x)
	assert.Equal(t, GELUTanh(x).Values(), yt.Values())
	assert.Equal(t, GELUTanhBackward(x, ones).Values(), dt.Values())
	for i, xv := range x.Values() {
		v := float64(xv)
		cdf := 0.5 * math.Erfc(-v/math.Sqrt2)
		pdf := math.Exp(-v*v/2) / math.Sqrt(2*math.Pi)
		assert.InDelta(t, cdf+v*pdf, d.Values()[i], 1e-6, "GELU'(%v)", v)
		u := math.Sqrt(2/math.Pi) * (v + 0.044715*v*v*v)
		du := math.Sqrt(2/math.Pi) * (1 + 3*0.044715*v*v)
		th := math.Tanh(u)
		assert.InDelta(t, 0.5*(1+th)+0.5*v*(1-th*th)*du, dt.Values()[i], 1e-6, "GELUTanh'(%v)", v)
	}
}

// TestGELUBackwardInBlocks checks the blocked backward pass against the derivative times dy, on
// more elements than one block, not a multiple of it, at 1 and 3 workers.
func TestGELUBackwardInBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := RandNormal(rng, 0, 2, 3, 4099)
	dy := RandNormal(rng, 0, 1, 3, 4099)
	_, d := GELUWithDerivative(x)
	want := Mul(d, dy).Values()
	for _, w := range []int{1, 3} {
		SetWorkers(w)
		got := GELUBackward(x, dy).Values()
		SetWorkers(0)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("workers %d, element %d: %v, want %v", w, i, got[i], want[i])
			}
		}
	}
}
