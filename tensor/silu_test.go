package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
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
