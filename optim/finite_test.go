package optim

import (
	"math"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
)

func TestCheckFiniteNamesTheFirstBadGradient(t *testing.T) {
	a := autograd.NamedParam("h.0.attn.c_attn.weight", tensor.Zeros(2, 3))
	b := autograd.NamedParam("ln_f.bias", tensor.Zeros(3))
	unnamed := autograd.Param(tensor.Zeros(2))
	params := []*autograd.Var{a, b, unnamed}
	assert.NoError(t, CheckFinite(1.5, params), "no gradients yet: nothing to check")

	setGrad(a, tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	setGrad(b, tensor.FromSlice([]float32{0, float32(math.Inf(-1)), 0}, 3))
	assert.EqualError(t, CheckFinite(1.5, params), "optim: gradient of ln_f.bias (shape [3]) is -Inf at element 1 (loss 1.5)")
	assert.EqualError(t, CheckFinite(float32(math.NaN()), params), "optim: loss is NaN")

	setGrad(b, tensor.Zeros(3))
	setGrad(unnamed, tensor.FromSlice([]float32{float32(math.NaN()), 0}, 2))
	assert.ErrorContains(t, CheckFinite(1, params), "gradient of parameter 2")
	setGrad(unnamed, tensor.Zeros(2))
	assert.NoError(t, CheckFinite(1, params))
}
