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
	first := x.Grad()
	assert.Equal(t, []float32{6}, first.Values())
	Mul(x, x).Backward()
	assert.Equal(t, []float32{12}, x.Grad().Values(), "a second Backward adds to the gradient")
	assert.Equal(t, []float32{6}, first.Values(), "into a new tensor: the one handed out stays as it was")
	x.ZeroGrad()
	assert.Nil(t, x.Grad())
}

// An op records a graph exactly when one of its inputs requires a gradient: constants, and
// detached copies of parameters, record nothing.
func TestConstantsRecordNothing(t *testing.T) {
	x := Param(tensor.Ones(2))
	for _, in := range []*Var{Const(tensor.Ones(2)), x.Detach()} {
		y := SumAll(Exp(in))
		assert.False(t, y.RequiresGrad())
		assert.Nil(t, y.parents)
		assert.Nil(t, y.backward)
		assert.PanicsWithValue(t, "autograd.Backward: the sum_all output does not require grad: it depends on no parameter that records gradients (constants only, or a model's frozen view: Frozen, Snapshot and Compact record no graph)", func() { y.Backward() })
	}
	assert.True(t, SumAll(Exp(x)).RequiresGrad())
}

func TestConstGetsNoGradient(t *testing.T) {
	x := Param(tensor.Ones(2))
	c := Const(tensor.Full(3, 2))
	SumAll(Mul(x, c)).Backward()
	assert.Nil(t, c.Grad())
	assert.Equal(t, []float32{3, 3}, x.Grad().Values())
}

func TestBackwardNeedsScalar(t *testing.T) {
	x := Param(tensor.Ones(2, 2))
	assert.PanicsWithValue(t, "autograd.Backward: output of shape [2 2] is not a scalar; use BackwardWith", func() { Exp(x).Backward() })
	assert.PanicsWithValue(t, "autograd.BackwardWith: seed of shape [4] for an output of shape [2 2]", func() { Exp(x).BackwardWith(tensor.Ones(4)) })
}

func TestDeepGraphDoesNotOverflow(t *testing.T) {
	x := Param(tensor.Ones(1))
	y := x
	for range 100000 {
		y = AddScalar(y, 0)
	}
	y.Backward()
	require.NotNil(t, x.Grad())
	assert.Equal(t, []float32{1}, x.Grad().Values())
}

// Add passes its output gradient to both inputs without copying, and Reshape passes it on as a
// view: the leaves must still end up with gradients of their own, since a caller or an
// optimiser may scale one in place.
func TestLeafGradientsDoNotShareStorage(t *testing.T) {
	a, b := Param(tensor.Ones(3)), Param(tensor.Ones(3))
	SumAll(Add(a, Reshape(b, 3))).Backward()
	a.Grad().ScaleInPlace(10)
	assert.Equal(t, []float32{1, 1, 1}, b.Grad().Values())
	assert.Equal(t, []float32{10, 10, 10}, a.Grad().Values())

	c, d := Param(tensor.Ones(3)), Param(tensor.Ones(3))
	SumAll(Add(c, d)).Backward()
	grads := hooksGrads()
	grads.Write(c).ScaleInPlace(10) // as ClipGradNorm does
	assert.Equal(t, []float32{1, 1, 1}, d.Grad().Values())
	assert.Equal(t, []float32{10, 10, 10}, c.Grad().Values())
}

// A Var used twice gets both contributions, whether they arrive as views of one storage (x + x)
// or as fresh tensors (x · x).
func TestVarUsedTwiceAccumulates(t *testing.T) {
	x := Param(tensor.FromSlice([]float32{1, 2}, 2))
	SumAll(Add(x, x)).Backward()
	assert.Equal(t, []float32{2, 2}, x.Grad().Values())
	x.ZeroGrad()
	SumAll(Mul(x, x)).Backward()
	assert.Equal(t, []float32{2, 4}, x.Grad().Values())
}
