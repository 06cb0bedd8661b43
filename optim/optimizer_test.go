package optim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Both optimisers behave alike through the interface: Step changes the parameters with a
// gradient, ZeroGrad drops every gradient, SetLR and LR agree, Params lists what they were given.
func TestOptimizerInterface(t *testing.T) {
	for _, c := range []struct {
		name string
		make func([]*autograd.Var) Optimizer
	}{
		{"adamw", func(ps []*autograd.Var) Optimizer { return NewAdamW(ps, AdamWConfig{}) }},
		{"sgd", func(ps []*autograd.Var) Optimizer { return NewSGD(ps, SGDConfig{Momentum: 0.9}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := newParams(20, []int{2, 3}, []int{3})
			before := [][]float32{ps[0].Value.Values(), ps[1].Value.Values()}
			opt := c.make(ps)
			assert.Equal(t, ps, opt.Params())
			opt.SetLR(0.25)
			assert.Equal(t, float32(0.25), opt.LR())
			setGrad(ps[0], testGrad(ps[0], 0, 0)) // ps[1] has no gradient: left alone
			opt.Step()
			assert.NotEqual(t, before[0], ps[0].Value.Values())
			assert.Equal(t, before[1], ps[1].Value.Values())
			setGrad(ps[1], testGrad(ps[1], 1, 0))
			opt.ZeroGrad()
			assert.Nil(t, ps[0].Grad())
			assert.Nil(t, ps[1].Grad())
			assert.Equal(t, c.name, opt.State().Kind)
		})
	}
}

// State reports each optimiser's configuration and per-parameter state under the documented
// names.
func TestStateContents(t *testing.T) {
	ps := newParams(21, []int{2, 3}, []int{3}, []int{4})
	adam := NewAdamW(ps, AdamWConfig{LR: 0.01, Betas: [2]float32{0.9, 0.95}, WeightDecay: 0.1})
	adam.SetLR(0.005)
	setGrad(ps[0], tensor.Ones(2, 3))
	adam.Step()
	s := adam.State()
	assert.Equal(t, KindAdamW, s.Kind)
	assert.Equal(t, map[string]float32{"lr": 0.005, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1}, s.Hyper)
	assert.Equal(t, []int{1, 0, 0}, s.Steps)
	assert.Equal(t, []bool{true, false, false}, s.Decay)
	assert.Equal(t, []string{"m", "v"}, s.SlotNames())
	// after one step with gradient 1: m = (1−β1)·1, v = (1−β2)·1
	assert.InDelta(t, 0.1, float64(s.Slots["m"][0].Values()[0]), 1e-7)
	assert.InDelta(t, 0.05, float64(s.Slots["v"][0].Values()[5]), 1e-7)
	assert.Equal(t, []float32{0, 0, 0}, s.Slots["m"][1].Values())
	// the state is a copy: stepping again does not change it
	adam.Step()
	assert.InDelta(t, 0.1, float64(s.Slots["m"][0].Values()[0]), 1e-7)

	sgd := NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 0.01})
	s = sgd.State()
	assert.Equal(t, KindSGD, s.Kind)
	assert.Equal(t, map[string]float32{"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": 1}, s.Hyper)
	assert.Nil(t, s.Steps)
	assert.Equal(t, []bool{true, true, true}, s.Decay, "SGD's L2 penalty applies to every parameter")
	assert.Equal(t, []*tensor.Tensor{nil, nil, nil}, s.Slots["momentum"], "no buffer before a first step")
	sgd.Step() // only ps[0] has a gradient
	s = sgd.State()
	require.NotNil(t, s.Slots["momentum"][0])
	assert.Equal(t, []int{2, 3}, s.Slots["momentum"][0].Shape())
	assert.Nil(t, s.Slots["momentum"][1])

	// LoadState carries the learning rate over, and leaves the configuration as built.
	other := NewSGD(ps, SGDConfig{LR: 0.3, Momentum: 0.5})
	require.NoError(t, other.LoadState(s))
	assert.Equal(t, float32(0.1), other.LR())
	assert.Equal(t, float32(0.5), other.Config().Momentum)
	assert.Equal(t, s.Slots, other.State().Slots)
}
