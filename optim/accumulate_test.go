package optim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// mseLoss is the mean squared error of the linear model x·W + b against y.
func mseLoss(w, b *autograd.Var, x, y *tensor.Tensor) *autograd.Var {
	pred := autograd.Add(autograd.MatMul(autograd.Const(x), w), b) // (N, 2)
	d := autograd.Sub(pred, autograd.Const(y))
	return autograd.MeanAll(autograd.Mul(d, d))
}

// Two micro-batches of half size, their losses scaled by 1/2 (or their gradients by ScaleGrads),
// give the same gradients and the same AdamW step as one full batch.
func TestGradientAccumulation(t *testing.T) {
	x := tensor.RandNormal(rng(10), 0, 1, 8, 3) // (N=8, 3)
	y := tensor.RandNormal(rng(11), 0, 1, 8, 2) // (N=8, 2)
	half := func(t *tensor.Tensor, i int) *tensor.Tensor { return t.Narrow(0, 4*i, 4).Contiguous() }
	newModel := func() []*autograd.Var { return newParams(12, []int{3, 2}, []int{2}) }
	cfg := AdamWConfig{LR: 1e-2, Betas: [2]float32{0.9, 0.95}, WeightDecay: 0.1}

	full := newModel()
	mseLoss(full[0], full[1], x, y).Backward()

	scaledLoss := newModel()
	for i := range 2 {
		autograd.Scale(mseLoss(scaledLoss[0], scaledLoss[1], half(x, i), half(y, i)), 0.5).Backward()
	}
	scaledGrads := newModel()
	for i := range 2 {
		mseLoss(scaledGrads[0], scaledGrads[1], half(x, i), half(y, i)).Backward()
	}
	ScaleGrads(scaledGrads, 0.5)

	for _, acc := range [][]*autograd.Var{scaledLoss, scaledGrads} {
		for i := range full {
			require.NotNil(t, acc[i].Grad())
			// Only the order of float32 sums differs between the two ways.
			assert.InDeltaSlice(t, f64(full[i].Grad().Values()), f64(acc[i].Grad().Values()), 1e-6)
		}
	}
	// Without the 1/2 the accumulated gradient is twice the full-batch one: the test can tell.
	doubled := newModel()
	for i := range 2 {
		mseLoss(doubled[0], doubled[1], half(x, i), half(y, i)).Backward()
	}
	assert.InDelta(t, 2*float64(full[1].Grad().Values()[0]), float64(doubled[1].Grad().Values()[0]), 1e-5)
	for _, ps := range [][]*autograd.Var{full, scaledLoss, scaledGrads} {
		ClipGradNorm(ps, 1)
		NewAdamW(ps, cfg).Step()
	}
	for i := range full {
		assert.InDeltaSlice(t, f64(full[i].Value.Values()), f64(scaledLoss[i].Value.Values()), 1e-6)
		assert.InDeltaSlice(t, f64(full[i].Value.Values()), f64(scaledGrads[i].Value.Values()), 1e-6)
	}
}
