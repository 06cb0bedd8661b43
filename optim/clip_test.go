package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

func gradParams() []*autograd.Var {
	a := autograd.Param(tensor.Zeros(2))
	setGrad(a, tensor.FromSlice([]float32{3, 4}, 2))
	b := autograd.Param(tensor.Zeros(1, 1))
	setGrad(b, tensor.FromSlice([]float32{12}, 1, 1))
	c := autograd.Param(tensor.Zeros(5)) // no gradient: skipped
	return []*autograd.Var{a, b, c}
}

func TestClipGradNorm(t *testing.T) {
	// Global norm √(3² + 4² + 12²) = 13.
	ps := gradParams()
	assert.Equal(t, 13.0, ClipGradNorm(ps, 20))
	assert.Equal(t, []float32{3, 4}, ps[0].Grad().Values(), "below the limit nothing changes")
	assert.Equal(t, []float32{12}, ps[1].Grad().Values())

	ps = gradParams()
	assert.Equal(t, 13.0, ClipGradNorm(ps, 1), "returns the norm before clipping")
	coef := 1 / (13 + 1e-6) // torch's clip_coef
	assert.InDeltaSlice(t, []float64{3 * coef, 4 * coef}, f64(ps[0].Grad().Values()), 1e-7)
	assert.InDelta(t, 12*coef, float64(ps[1].Grad().Item()), 1e-7)
	assert.InDelta(t, 1, ClipGradNorm(ps, 2), 1e-6, "the clipped gradients have norm 1")
	assert.Nil(t, ps[2].Grad())

	// At exactly the limit torch still scales, by 13/(13+1e-6) < 1.
	ps = gradParams()
	ClipGradNorm(ps, 13)
	assert.Less(t, ps[1].Grad().Item(), float32(12))

	// The norm accumulates in float64: 10⁶ gradients of 1 have norm 1000 exactly, where a float32
	// running sum of squares would already drift.
	big := autograd.Param(tensor.Zeros(1000000))
	setGrad(big, tensor.Ones(1000000))
	assert.Equal(t, 1000.0, ClipGradNorm([]*autograd.Var{big}, 1e9))

	inf := autograd.Param(tensor.Zeros(1))
	setGrad(inf, tensor.FromSlice([]float32{float32(math.Inf(1))}, 1))
	assert.True(t, math.IsInf(ClipGradNorm([]*autograd.Var{inf}, 1), 1))
}

func TestScaleGrads(t *testing.T) {
	ps := gradParams()
	ScaleGrads(ps, 0.5)
	assert.Equal(t, []float32{1.5, 2}, ps[0].Grad().Values())
	assert.Equal(t, []float32{6}, ps[1].Grad().Values())
	assert.Nil(t, ps[2].Grad())
}
