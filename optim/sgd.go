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

// ZeroGrad drops the gradients of all parameters.
func (o *SGD) ZeroGrad() { ZeroGrad(o.params) }

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

// SGDState is a snapshot of SGD's momentum buffers, parameter by parameter; a nil entry is a
// parameter that has not yet taken a step with momentum.
type SGDState struct {
	Momentum []*tensor.Tensor
}

// State returns a copy of the momentum buffers for a checkpoint.
func (o *SGD) State() SGDState {
	s := SGDState{Momentum: make([]*tensor.Tensor, len(o.params))}
	for i, b := range o.buf {
		if b != nil {
			s.Momentum[i] = tensor.FromSlice(append([]float32(nil), b...), o.params[i].Value.Shape()...)
		}
	}
	return s
}

// LoadState restores buffers saved by State, or returns an error, changing nothing, if their
// count or shapes do not match the parameters.
func (o *SGD) LoadState(s SGDState) error {
	if err := checkState("SGD.LoadState", "momentum", o.params, s.Momentum, true); err != nil {
		return err
	}
	for i, t := range s.Momentum {
		if t == nil {
			o.buf[i] = nil
		} else {
			o.buf[i] = t.Values()
		}
	}
	return nil
}
