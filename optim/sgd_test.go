package optim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// sgdRun starts a scalar parameter at 1 and takes len(grads) steps with the given gradients.
func sgdRun(cfg SGDConfig, grads ...float32) []float32 {
	p := autograd.Param(tensor.FromSlice([]float32{1}, 1))
	opt := NewSGD([]*autograd.Var{p}, cfg)
	var out []float32
	for _, g := range grads {
		setGrad(p, tensor.FromSlice([]float32{g}, 1))
		opt.Step()
		opt.ZeroGrad()
		out = append(out, p.Value.Item())
	}
	return out
}

func TestSGDByHand(t *testing.T) {
	// Plain: p ← p − lr·g.
	assert.InDeltaSlice(t, []float64{0.95, 0.85}, f64(sgdRun(SGDConfig{LR: 0.1}, 0.5, 1)), 1e-7)
	// Momentum 0.9, lr 0.1, g = 0.5 each step:
	// b = 0.5, p = 0.95; b = 0.95, p = 0.855; b = 1.355, p = 0.7195.
	assert.InDeltaSlice(t, []float64{0.95, 0.855, 0.7195}, f64(sgdRun(SGDConfig{LR: 0.1, Momentum: 0.9}, 0.5, 0.5, 0.5)), 1e-6)
	// Nesterov: g' = g + μ·b. b = 0.5, g' = 0.95, p = 0.905; b = 0.95, g' = 1.355, p = 0.7695.
	assert.InDeltaSlice(t, []float64{0.905, 0.7695}, f64(sgdRun(SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true}, 0.5, 0.5)), 1e-6)
	// L2 weight decay 0.1: g' = 0.5 + 0.1·1 = 0.6, p = 0.94; g' = 0.5 + 0.094 = 0.594, p = 0.8806.
	assert.InDeltaSlice(t, []float64{0.94, 0.8806}, f64(sgdRun(SGDConfig{LR: 0.1, WeightDecay: 0.1}, 0.5, 0.5)), 1e-6)
	// Weight decay with momentum: g' = 0.6, b = 0.6, p = 0.94; g' = 0.594, b = 0.54+0.594 = 1.134, p = 0.8266.
	assert.InDeltaSlice(t, []float64{0.94, 0.8266}, f64(sgdRun(SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.1}, 0.5, 0.5)), 1e-6)

	assert.Panics(t, func() { NewSGD(nil, SGDConfig{Nesterov: true}) })
	assert.Equal(t, float32(1e-3), NewSGD(nil, SGDConfig{}).LR())
}

func f64(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func TestSGDSkipsMissingGradAndResumes(t *testing.T) {
	cfg := SGDConfig{LR: 0.05, Momentum: 0.9}
	run := func(params []*autograd.Var, opt *SGD, from, to int) {
		for s := from; s < to; s++ {
			for i, p := range params {
				if i == 0 && s < 2 {
					continue // no gradient yet: neither value nor momentum buffer may change
				}
				setGrad(p, testGrad(p, i, s))
			}
			opt.Step()
			opt.ZeroGrad()
		}
	}
	straight := newParams(6, []int{3, 2}, []int{4})
	before := straight[0].Value.Values()
	opt := NewSGD(straight, cfg)
	run(straight, opt, 0, 2)
	assert.Equal(t, before, straight[0].Value.Values())
	assert.Nil(t, opt.State().Slots["momentum"][0])
	run(straight, opt, 2, 6)

	resumed := newParams(6, []int{3, 2}, []int{4})
	opt1 := NewSGD(resumed, cfg)
	run(resumed, opt1, 0, 3)
	opt2 := NewSGD(resumed, cfg)
	require.NoError(t, opt2.LoadState(opt1.State()))
	run(resumed, opt2, 3, 6)
	for i := range straight {
		assert.True(t, bitsEqual(straight[i].Value.Values(), resumed[i].Value.Values()))
	}
	good := opt2.State()
	state := func(momentum ...*tensor.Tensor) State {
		return State{Kind: KindSGD, Hyper: good.Hyper, Slots: map[string][]*tensor.Tensor{"momentum": momentum}}
	}
	assert.ErrorContains(t, opt2.LoadState(state(nil)), "1 momentum tensors for 2 parameters")
	assert.ErrorContains(t, opt2.LoadState(state(tensor.Zeros(2, 3), nil)), "shape [2 3]")
	withSteps := state(nil, nil)
	withSteps.Steps = []int{1, 1}
	assert.ErrorContains(t, opt2.LoadState(withSteps), "step counts")
	adam := NewAdamW(resumed, AdamWConfig{}).State()
	assert.ErrorContains(t, opt2.LoadState(adam), `kind "adamw"`)
	assert.Equal(t, good, opt2.State(), "refused states change nothing")
}
