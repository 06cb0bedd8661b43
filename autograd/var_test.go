package autograd

import (
	"testing"

	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackwardAccumulatesAcrossCalls(t *testing.T) {
	x := Param(tensor.FromSlice([]float32{3}, 1))
	y := Mul(x, x) // dy/dx = 2x = 6
	y.Backward()
	assert.Equal(t, []float32{6}, x.Grad.Values())
	Mul(x, x).Backward()
	assert.Equal(t, []float32{12}, x.Grad.Values(), "a second Backward adds to the gradient")
	x.ZeroGrad()
	assert.Nil(t, x.Grad)
}

func TestNoGradRecordsNothing(t *testing.T) {
	x := Param(tensor.Ones(2))
	var y *Var
	NoGrad(func() {
		assert.False(t, GradEnabled())
		y = Exp(x)
	})
	assert.True(t, GradEnabled())
	assert.False(t, y.RequiresGrad())
	assert.Panics(t, func() { SumAll(y).Backward() })
}

func TestConstGetsNoGradient(t *testing.T) {
	x := Param(tensor.Ones(2))
	c := Const(tensor.Full(3, 2))
	SumAll(Mul(x, c)).Backward()
	assert.Nil(t, c.Grad)
	assert.Equal(t, []float32{3, 3}, x.Grad.Values())
}

func TestBackwardNeedsScalar(t *testing.T) {
	x := Param(tensor.Ones(2, 2))
	assert.Panics(t, func() { Exp(x).Backward() })
}

func TestDeepGraphDoesNotOverflow(t *testing.T) {
	x := Param(tensor.Ones(1))
	y := x
	for range 100000 {
		y = AddScalar(y, 0)
	}
	y.Backward()
	require.NotNil(t, x.Grad)
	assert.Equal(t, []float32{1}, x.Grad.Values())
}

func TestLeafGradientsDoNotShareStorage(t *testing.T) {
	// Add passes its output gradient to both inputs without copying; the leaves must still end
	// up with separate buffers, since optimisers scale gradients in place.
	a, b := Param(tensor.Ones(3)), Param(tensor.Ones(3))
	SumAll(Add(a, Reshape(b, 3))).Backward()
	a.Grad.ScaleInPlace(10)
	assert.Equal(t, []float32{1, 1, 1}, b.Grad.Values())
	assert.Equal(t, []float32{10, 10, 10}, a.Grad.Values())
}
