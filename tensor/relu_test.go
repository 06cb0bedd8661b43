package tensor

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReLUBackward(t *testing.T) {
	inf := float32(math.Inf(1))
	y := FromSlice([]float32{0, 1.5, 0, 3e-40, inf, 2}, 2, 3)
	dy := FromSlice([]float32{7, -2, 5, 4, 1, -0.5}, 2, 3)
	assert.Equal(t, []float32{0, -2, 0, 4, 1, -0.5}, ReLUBackward(y, dy).Values())
	// against the definition on odd sizes
	rng := newRNG(3)
	for _, n := range []int{1, 7, 33, 127, 100000} {
		x := RandNormal(rng, 0, 1, n)
		g := RandNormal(rng, 0, 1, n)
		got, gv := ReLUBackward(ReLU(x), g).Values(), g.Values()
		for i, xv := range x.Values() {
			want := float32(0)
			if xv > 0 {
				want = gv[i]
			}
			if got[i] != want {
				t.Fatalf("n=%d element %d: got %v, want %v", n, i, got[i], want)
			}
		}
	}
	assert.Panics(t, func() { ReLUBackward(y, Zeros(3)) })
}
