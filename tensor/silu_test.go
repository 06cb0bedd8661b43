package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/vecmath"
)

// siluRef is x·σ(x) and its derivative in float64, straight from the formulas.
func siluRef(x float64) (y, d float64) {
	s := 1 / (1 + math.Exp(-x))
	return x * s, s + x*s*(1-s)
}

// The SiLU kernels against the float64 formulas, on sizes around the block and vector lengths
// and on inputs out to where e^−x overflows float32.
func TestSiLUMatchesReference(t *testing.T) {
	for _, n := range []int{1, 7, 33, 127, 1024, 1025, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rng := newRNG(uint64(n))
			x := RandNormal(rng, 0, 4, n)
			x.Data()[0] = -120 // e^120 overflows: silu → −0, silu' → 0
			if n > 1 {
				x.Data()[1] = 95
			}
			up, dy := RandNormal(rng, 0, 1, n), RandNormal(rng, 0, 1, n)
			y, dx := SiLU(x), SiLUBackward(x, dy)
			m := SiLUMul(x, up)
			dg, du := SiLUMulBackward(x, up, dy)
			var ry, rdx, rm, rdg, rdu []float64
			for i, v := range x.Values() {
				s, d := siluRef(float64(v))
				u, g := float64(up.Values()[i]), float64(dy.Values()[i])
				ry, rdx = append(ry, s), append(rdx, g*d)
				rm, rdg, rdu = append(rm, s*u), append(rdg, g*u*d), append(rdu, g*s)
			}
			closeTo(t, "silu", y.Values(), ry, 1e-6, 1e-6)
			closeTo(t, "silu backward", dx.Values(), rdx, 1e-6, 1e-6)
			closeTo(t, "silu·up", m.Values(), rm, 1e-6, 1e-6)
			closeTo(t, "dgate", dg.Values(), rdg, 1e-6, 1e-6)
			closeTo(t, "dup", du.Values(), rdu, 1e-6, 1e-6)
			assert.False(t, math.IsNaN(float64(dx.Values()[0])))
		})
	}
}

// The kernels' vector passes round as the scalar formulas do, value for value: σ as
// 1/(1 + e^−x) on vecmath's exponential, silu'(x) = s·(1 + x·(1 − s)), and the products in the
// order written, (gate·σ)·up, (dy·up)·silu', dy·(gate·σ).
func TestSiLUKernelsMatchScalarFormulas(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	const n = 2500 // more than two blocks
	gate, up, dy := RandNormal(rng, 0, 4, n), RandNormal(rng, 0, 1, n), RandNormal(rng, 0, 1, n)
	gd, ud, g := gate.Data(), up.Data(), dy.Data()
	gd[3], gd[7], gd[11] = float32(math.Inf(1)), float32(math.Inf(-1)), 0
	s := make([]float32, n)
	neg := make([]float32, n)
	for i, v := range gd {
		neg[i] = -v
	}
	vecmath.Exp(neg, neg)
	for i, e := range neg {
		s[i] = 1 / (1 + e)
	}
	out := SiLUMul(gate, up).Data()
	dg, du := SiLUMulBackward(gate, up, dy)
	sb := SiLUBackward(gate, dy).Data()
	same := func(want, got float32, what string, i int) {
		require.True(t, want == got || want != want && got != got, "%s at %d (gate %v): %v, want %v", what, i, gd[i], got, want)
	}
	for i := range n {
		same((gd[i]*s[i])*ud[i], out[i], "SiLUMul", i)
		same(g[i]*ud[i]*siluDeriv(gd[i], s[i]), dg.Data()[i], "dgate", i)
		same(g[i]*(gd[i]*s[i]), du.Data()[i], "dup", i)
		same(g[i]*siluDeriv(gd[i], s[i]), sb[i], "SiLUBackward", i)
	}
}
