package autograd

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/hooks"
	"github.com/goformer/goformer/tensor"
)

func hooksGrads() hooks.Grads[Var, tensor.Tensor] {
	return hooks.Lookup[hooks.Grads[Var, tensor.Tensor]]()
}

// linearLoss is the mean of x·w for x (8, 64) filled with v: a graph whose gradient for w
// (64, 32) is big enough to be recycled, and equal to v/32 everywhere.
func linearLoss(w *Var, v float32) *Var {
	return MeanAll(MatMul(Const(tensor.Full(v, 8, 64)), w))
}

// A gradient that was never handed out (an optimiser reads it through the hooks) goes back to
// the free lists on ZeroGrad, and the next Backward reuses its storage.
func TestZeroGradRecyclesAGradientNeverHandedOut(t *testing.T) {
	w := Param(tensor.Ones(64, 32))
	linearLoss(w, 1).Backward()
	first := &hooksGrads().Read(w).Data()[0]
	w.ZeroGrad()
	assert.Nil(t, hooksGrads().Read(w))
	linearLoss(w, 1).Backward()
	assert.Same(t, first, &hooksGrads().Read(w).Data()[0])
}

// A gradient that Grad handed out, and its Data slice, keep their contents through ZeroGrad,
// later Backwards (which make tensors of the same size, so that recycled storage would be
// reused), writes through the hooks and Release.
func TestAGradientHandedOutNeverChanges(t *testing.T) {
	w := Param(tensor.Ones(64, 32))
	linearLoss(w, 1).Backward()
	g := w.Grad()
	data := g.Data()
	want := tensor.Full(1.0/32, 64, 32).Values()
	require.InDeltaSlice(t, want, g.Values(), 1e-7)

	hooksGrads().Write(w).ScaleInPlace(100) // clipping writes into a copy
	assert.InDelta(t, 100.0/32, w.Grad().At(0, 0), 1e-5)
	assert.InDeltaSlice(t, want, data, 1e-7)
	w.ZeroGrad()
	for v := range 4 {
		loss := linearLoss(w, float32(v+2))
		loss.Backward() // without ZeroGrad: accumulating into the gradient
		Release(loss)
	}
	assert.InDelta(t, (2+3+4+5)/32.0, w.Grad().At(0, 0), 1e-5)
	assert.InDeltaSlice(t, want, g.Values(), 1e-7)
	assert.InDeltaSlice(t, want, data, 1e-7)
}
