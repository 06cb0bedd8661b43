package optim

import (
	"math"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// AdamWConfig holds AdamW's hyperparameters. A zero field takes the default noted beside it;
// the defaults are PyTorch's except WeightDecay, whose zero means no decay (PyTorch's AdamW
// defaults to 0.01) so that the zero value can say "none".
type AdamWConfig struct {
	LR          float32    // learning rate until SetLR changes it; default 1e-3
	Betas       [2]float32 // decay rates of the first and second moments; default {0.9, 0.999}
	Eps         float32    // added to the denominator for stability; default 1e-8
	WeightDecay float32    // decoupled weight decay coefficient; default 0

	// Decay selects the parameters that weight decay applies to. Nil means those with 2 or more
	// dimensions (weight matrices and embeddings, not biases and LayerNorm gains), as nanoGPT
	// and the usual GPT-2 recipes do. Return true for every parameter to decay all of them, as
	// torch.optim.AdamW does with a single parameter group. It is called once per parameter, by
	// NewAdamW.
	Decay func(p *autograd.Var) bool
}

// DecayMatrices is the default decay rule: parameters with 2 or more dimensions.
func DecayMatrices(p *autograd.Var) bool { return p.Value.Dims() >= 2 }

// DecayAll applies weight decay to every parameter.
func DecayAll(*autograd.Var) bool { return true }

// AdamW is the Adam optimiser with decoupled weight decay (Loshchilov & Hutter), with the update of
// torch.optim.AdamW:
//
//	p ← p − lr·wd·p                       (only for parameters selected by Decay)
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	p ← p − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
//
// where t counts the steps in which the parameter had a gradient.
type AdamW struct {
	params []*autograd.Var
	decay  []bool
	m, v   [][]float32
	steps  []int
	cfg    AdamWConfig
	lr     float32
}

// adamwGo is the update of one parameter, element by element: the four lines above, with
// lr/(1−β1^t) in stepSize and √(1−β2^t) in bc2Sqrt. It is the plain loop the vector kernel
// (adamwVector) is tested against, bit for bit, and it does the elements that kernel leaves.
// The order of operations mirrors PyTorch's float32 CPU kernels (param.mul_, exp_avg.lerp_,
// exp_avg_sq.mul_().addcmul_(), sqrt/div/add for the denominator, addcdiv_) so that results
// agree to the last bit or two; each product is rounded to float32 explicitly, which keeps the
// compiler from fusing it into a multiply-add, as the vector kernel rounds it.
func adamwGo(p, g, m, v []float32, c *adamwConsts) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n] // one bounds check here instead of one per element below
	for j := range n {
		p[j] = float32(p[j] * c.decayMul)                                                            // p ← p − lr·wd·p
		m[j] += float32(c.w1 * (g[j] - m[j]))                                                        // m ← β1·m + (1−β1)·g
		v[j] = float32(v[j]*c.beta2) + float32(float32(c.w2*g[j])*g[j])                              // v ← β2·v + (1−β2)·g²
		p[j] -= float32(c.stepSize * (m[j] / (float32(math.Sqrt(float64(v[j])))/c.bc2Sqrt + c.eps))) // p ← p − lr·m̂/(√v̂ + ε)
	}
}

// adamwConsts are one parameter's scalars for an AdamW update, in the order the vector kernel
// reads them.
type adamwConsts struct {
	decayMul, w1, beta2, w2, bc2Sqrt, eps, stepSize float32
}

// adamwKernel applies one AdamW update to equal-length slices: the vector kernel where the CPU
// has one (the fast path), then adamwGo for what is left. Both give the same bits.
func adamwKernel(p, g, m, v []float32, c *adamwConsts) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	done := adamwVector(p, g, m, v, c)
	adamwGo(p[done:], g[done:], m[done:], v[done:], c)
}

// NewAdamW returns an AdamW optimiser over params (zero moments, step 0). It panics on a nil or
// repeated parameter.
func NewAdamW(params []*autograd.Var, cfg AdamWConfig) *AdamW {
	checkParams("NewAdamW", params)
	if cfg.LR == 0 {
		cfg.LR = 1e-3
	}
	if cfg.Betas == [2]float32{} {
		cfg.Betas = [2]float32{0.9, 0.999}
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	if cfg.Decay == nil {
		cfg.Decay = DecayMatrices
	}
	o := &AdamW{
		params: append([]*autograd.Var(nil), params...),
		decay:  make([]bool, len(params)),
		m:      make([][]float32, len(params)),
		v:      make([][]float32, len(params)),
		steps:  make([]int, len(params)),
		cfg:    cfg,
		lr:     cfg.LR,
	}
	for i, p := range params {
		o.decay[i] = cfg.Decay(p)
		o.m[i] = make([]float32, p.Value.Size())
		o.v[i] = make([]float32, p.Value.Size())
	}
	return o
}

// Config returns the configuration in use, with defaults filled in.
func (o *AdamW) Config() AdamWConfig { return o.cfg }

// LR returns the learning rate the next Step will use.
func (o *AdamW) LR() float32 { return o.lr }

// SetLR sets the learning rate for the following steps (call it every step with a schedule).
func (o *AdamW) SetLR(lr float32) { o.lr = lr }

// Params returns the parameters being optimised (the slice is the optimiser's own; do not modify it).
func (o *AdamW) Params() []*autograd.Var { return o.params }

// ZeroGrad drops the gradients of all parameters.
func (o *AdamW) ZeroGrad() { zeroGrad(o.params) }

// Step updates every parameter that has a gradient, using the current learning rate.
func (o *AdamW) Step() {
	type stepConsts struct {
		adamwConsts
		grad []float32
	}
	// Per-parameter scalars, computed once per step in float64 and then rounded, exactly where
	// PyTorch's single-tensor AdamW (its CPU path) rounds them: it forms lr/(1−β1^t) and
	// √(1−β2^t) as Python floats and applies them to float32 tensors.
	consts := make([]stepConsts, len(o.params))
	lr := decimal(o.lr)
	b1, b2 := decimal(o.cfg.Betas[0]), decimal(o.cfg.Betas[1])
	wd := decimal(o.cfg.WeightDecay)
	for i, p := range o.params {
		g := gradData(p)
		if g == nil {
			continue
		}
		o.steps[i]++
		t := float64(o.steps[i])
		c := stepConsts{adamwConsts: adamwConsts{decayMul: 1}, grad: g}
		if o.decay[i] {
			c.decayMul = float32(1 - lr*wd)
		}
		c.stepSize = float32(lr / (1 - math.Pow(b1, t)))
		c.bc2Sqrt = float32(math.Sqrt(1 - math.Pow(b2, t)))
		consts[i] = c
	}
	w1 := float32(1 - b1) // 1−β1 and 1−β2 rounded once, as PyTorch passes them to its kernels
	beta2, w2 := o.cfg.Betas[1], float32(1-b2)
	for i := range consts {
		consts[i].w1, consts[i].beta2, consts[i].w2, consts[i].eps = w1, beta2, w2, o.cfg.Eps
	}
	forEachSpan(sizes(o.params), func(i int) bool { return consts[i].grad != nil }, func(s span) {
		c := consts[s.i]
		p := o.params[s.i].Value.Data()[s.lo:s.hi]
		g := c.grad[s.lo:s.hi]
		m := o.m[s.i][s.lo:s.hi]
		v := o.v[s.i][s.lo:s.hi]
		adamwKernel(p, g, m, v, &c.adamwConsts)
	})
}

// State returns a copy of the optimiser's state (kind KindAdamW): its hyperparameters, each
// parameter's step count and moments ("m" and "v"), and which parameters weight decay applies to.
func (o *AdamW) State() State {
	s := State{
		Kind: KindAdamW,
		Hyper: map[string]float32{
			"lr": o.lr, "beta1": o.cfg.Betas[0], "beta2": o.cfg.Betas[1], "eps": o.cfg.Eps, "weight_decay": o.cfg.WeightDecay,
		},
		Steps: slices.Clone(o.steps),
		Slots: map[string][]*tensor.Tensor{"m": make([]*tensor.Tensor, len(o.params)), "v": make([]*tensor.Tensor, len(o.params))},
		Decay: slices.Clone(o.decay),
	}
	for i, p := range o.params {
		s.Slots["m"][i] = copyOf(o.m[i], p.Value.Shape())
		s.Slots["v"][i] = copyOf(o.v[i], p.Value.Shape())
	}
	return s
}

// LoadState restores step counts, moments and the learning rate from a state taken by State
// (see Optimizer.LoadState). It returns an error, changing nothing, if the state does not fit
// the parameters: another kind, count or shape, a missing moment, a negative step count.
func (o *AdamW) LoadState(s State) error {
	lr, err := checkLoad("AdamW.LoadState", KindAdamW, o.params, s, true, false, "m", "v")
	if err != nil {
		return err
	}
	copy(o.steps, s.Steps)
	for i := range o.params {
		copy(o.m[i], s.Slots["m"][i].Contiguous().Data())
		copy(o.v[i], s.Slots["v"][i].Contiguous().Data())
	}
	o.lr = lr
	return nil
}

var _, _ Optimizer = (*AdamW)(nil), (*SGD)(nil)
