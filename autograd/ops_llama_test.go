package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/goformer/goformer/tensor"
)

func TestGrad_RMSNorm(t *testing.T) {
	rng := newRNG(40)
	for _, shape := range [][]int{{1, 1}, {3, 7}, {2, 3, 5}, {40, 16}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			c := shape[len(shape)-1]
			checkGrad(t, func(v []*Var) *Var { return RMSNorm(v[0], v[1], 1e-5) },
				randn(rng, shape...), tensor.RandNormal(rng, 1, 0.3, c))
		})
	}
}

func TestGrad_SiLU(t *testing.T) {
	rng := newRNG(41)
	checkGrad(t, func(v []*Var) *Var { return SiLU(v[0]) }, tensor.RandNormal(rng, 0, 3, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return SiLUMul(v[0], v[1]) }, tensor.RandNormal(rng, 0, 3, 2, 5, 3), randn(rng, 2, 5, 3))
}

func TestGrad_Rope(t *testing.T) {
	rng := newRNG(42)
	const p, half = 10, 3
	cos, sin := tensor.Zeros(p, half), tensor.Zeros(p, half)
	for i := range p * half {
		a := rng.Float64() * 6
		cos.Data()[i], sin.Data()[i] = float32(math.Cos(a)), float32(math.Sin(a))
	}
	checkGrad(t, func(v []*Var) *Var { return Rope(v[0], cos, sin, []int{3, 9}) }, randn(rng, 2, 2, 3, 2*half))
	checkGrad(t, func(v []*Var) *Var { return Rope(v[0], cos, sin, []int{0, 1, 5, 7}) }, randn(rng, 2, 2, 1, 2*half))
}
