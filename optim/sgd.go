package optim

import (
	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// SGDConfig holds SGD's hyperparameters. A zero field means: LR 1e-3 (PyTorch's default), no
// momentum, no weight decay.
type SGDConfig struct {
	LR          float32
	Momentum    float32
	WeightDecay float32 // L2 penalty added to the gradient (coupled, as in torch.optim.SGD), on every parameter
	Nesterov    bool    // use Nesterov momentum (needs Momentum > 0)
}

// SGD is stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
// decay, with the update of torch.optim.SGD (dampening 0):
//
//	g ← g + wd·p
//	b ← g on a parameter's first step, else μ·b + g
//	g ← g + μ·b if Nesterov, else b
//	p ← p − lr·g
type SGD struct {
	params []*autograd.Var
	buf    [][]float32 // momentum buffers; nil until a parameter's first step
	cfg    SGDConfig
	lr     float32
}

// NewSGD returns an SGD optimiser over params. It panics on a nil or repeated parameter, or on
// Nesterov without momentum.
func NewSGD(params []*autograd.Var, cfg SGDConfig) *SGD {
	checkParams("NewSGD", params)
	if cfg.Nesterov && cfg.Momentum <= 0 {
		panic("optim.NewSGD: Nesterov momentum needs Momentum > 0")
	}
	if cfg.LR == 0 {
		cfg.LR = 1e-3
	}
	return &SGD{params: append([]*autograd.Var(nil), params...), buf: make([][]float32, len(params)), cfg: cfg, lr: cfg.LR}
}

// Config returns the configuration in use, with defaults filled in.
func (o *SGD) Config() SGDConfig { return o.cfg }

// LR returns the learning rate the next Step will use.
func (o *SGD) LR() float32 { return o.lr }

// SetLR sets the learning rate for the following steps.
func (o *SGD) SetLR(lr float32) { o.lr = lr }

// Params returns the parameters being optimised (the slice is the optimiser's own; do not modify it).
func (o *SGD) Params() []*autograd.Var { return o.params }

// ZeroGrad drops the gradients of all parameters.
func (o *SGD) ZeroGrad() { zeroGrad(o.params) }

// Step updates every parameter that has a gradient.
func (o *SGD) Step() {
	lr, wd, mu := o.lr, o.cfg.WeightDecay, o.cfg.Momentum
	for i, prm := range o.params {
		g := gradData(prm)
		if g == nil {
			continue
		}
		p := prm.Value.Data()
		g = g[:len(p)]
		if mu == 0 {
			for j := range p {
				gj := g[j]
				if wd != 0 { // skipped when zero, as torch does, so an Inf weight does not make NaN
					gj += wd * p[j]
				}
				p[j] -= lr * gj
			}
			continue
		}
		b := o.buf[i]
		first := b == nil
		if first {
			b = make([]float32, len(p))
			o.buf[i] = b
		}
		b = b[:len(p)]
		for j := range p {
			gj := g[j]
			if wd != 0 {
				gj += wd * p[j]
			}
			if first {
				b[j] = gj
			} else {
				b[j] = mu*b[j] + gj
			}
			if o.cfg.Nesterov {
				gj += mu * b[j]
			} else {
				gj = b[j]
			}
			p[j] -= lr * gj
		}
	}
}

// State returns a copy of the optimiser's state (kind KindSGD): its hyperparameters and the
// momentum buffers (slot "momentum", nil for a parameter that has not yet taken a step with
// momentum). Weight decay applies to every parameter.
func (o *SGD) State() State {
	s := State{
		Kind: KindSGD,
		Hyper: map[string]float32{
			"lr": o.lr, "momentum": o.cfg.Momentum, "weight_decay": o.cfg.WeightDecay, "nesterov": flag(o.cfg.Nesterov),
		},
		Slots: map[string][]*tensor.Tensor{"momentum": make([]*tensor.Tensor, len(o.params))},
		Decay: make([]bool, len(o.params)),
	}
	for i, p := range o.params {
		s.Slots["momentum"][i] = copyOf(o.buf[i], p.Value.Shape())
		s.Decay[i] = true
	}
	return s
}

// LoadState restores the momentum buffers and the learning rate from a state taken by State
// (see Optimizer.LoadState), or returns an error, changing nothing, if the state does not fit
// the parameters.
func (o *SGD) LoadState(s State) error {
	lr, err := checkLoad("SGD.LoadState", KindSGD, o.params, s, false, true, "momentum")
	if err != nil {
		return err
	}
	for i, t := range s.Slots["momentum"] {
		if t == nil {
			o.buf[i] = nil
		} else {
			o.buf[i] = t.Values()
		}
	}
	o.lr = lr
	return nil
}
