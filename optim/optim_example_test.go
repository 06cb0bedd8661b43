package optim_test

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// Fit w in y = w·x to data made with w = 3, using AdamW with a warmup-then-cosine schedule and
// gradient clipping, the loop nanoGPT runs.
func ExampleAdamW() {
	w := autograd.Param(tensor.FromSlice([]float32{0}, 1, 1))
	x := tensor.FromSlice([]float32{1, 2, 3, 4}, 4, 1)
	y := tensor.FromSlice([]float32{3, 6, 9, 12}, 4, 1)
	params := []*autograd.Var{w}

	opt := optim.NewAdamW(params, optim.AdamWConfig{LR: 0.1, Betas: [2]float32{0.9, 0.95}})
	sched := optim.CosineSchedule{WarmupIters: 10, DecayIters: 300, MaxLR: 0.1, MinLR: 0.01}
	for it := range 300 {
		d := autograd.Sub(autograd.MatMul(autograd.Const(x), w), autograd.Const(y))
		loss := autograd.MeanAll(autograd.Mul(d, d))
		loss.Backward()
		optim.ClipGradNorm(params, 1.0)
		opt.SetLR(sched.LR(it))
		opt.Step()
		opt.ZeroGrad()
	}
	fmt.Printf("w = %.2f\n", w.Value.Item())
	// Output:
	// w = 3.00
}

func ExampleCosineSchedule() {
	s := optim.CosineSchedule{WarmupIters: 2, DecayIters: 10, MaxLR: 1, MinLR: 0.1}
	for _, it := range []int{0, 1, 2, 6, 10, 20} {
		fmt.Printf("%d: %.3f\n", it, s.LR(it))
	}
	// Output:
	// 0: 0.333
	// 1: 0.667
	// 2: 1.000
	// 6: 0.550
	// 10: 0.100
	// 20: 0.100
}

func ExampleClipGradNorm() {
	p := autograd.Param(tensor.Zeros(2))
	// A loss whose gradient is [3 4]: 3·p₀ + 4·p₁.
	autograd.SumAll(autograd.Mul(p, autograd.Const(tensor.FromSlice([]float32{3, 4}, 2)))).Backward()
	norm := optim.ClipGradNorm([]*autograd.Var{p}, 1)
	fmt.Printf("norm before %.1f, gradient now %.3f\n", norm, p.Grad().Values())
	// Output:
	// norm before 5.0, gradient now [0.600 0.800]
}

func ExampleSGD() {
	p := autograd.Param(tensor.FromSlice([]float32{1}, 1))
	opt := optim.NewSGD([]*autograd.Var{p}, optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	for range 3 {
		autograd.Scale(autograd.SumAll(p), 0.5).Backward() // a constant gradient, 0.5
		opt.Step()
		opt.ZeroGrad()
		fmt.Printf("%.4f\n", p.Value.Item())
	}
	// Output:
	// 0.9500
	// 0.8550
	// 0.7195
}

// The same loop trains with any Optimizer, and State shows what a checkpoint keeps of each: its
// kind, hyperparameters, per-parameter step counts and slot tensors.
func ExampleOptimizer() {
	for _, newOpt := range []func([]*autograd.Var) optim.Optimizer{
		func(ps []*autograd.Var) optim.Optimizer { return optim.NewAdamW(ps, optim.AdamWConfig{LR: 0.1}) },
		func(ps []*autograd.Var) optim.Optimizer {
			return optim.NewSGD(ps, optim.SGDConfig{LR: 0.1, Momentum: 0.5})
		},
	} {
		w := autograd.Param(tensor.FromSlice([]float32{0}, 1))
		opt := newOpt([]*autograd.Var{w})
		for range 300 {
			d := autograd.Sub(w, autograd.Const(tensor.FromSlice([]float32{3}, 1)))
			autograd.SumAll(autograd.Mul(d, d)).Backward() // (w − 3)²
			opt.Step()
			opt.ZeroGrad()
		}
		s := opt.State()
		fmt.Printf("%s: w = %.2f; lr %g, slots %v, steps %v\n", s.Kind, w.Value.Item(), s.Hyper["lr"], s.SlotNames(), s.Steps)
	}
	// Output:
	// adamw: w = 3.00; lr 0.1, slots [m v], steps [300]
	// sgd: w = 3.00; lr 0.1, slots [momentum], steps []
}
