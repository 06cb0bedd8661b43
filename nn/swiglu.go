package nn

import "github.com/goformer/goformer/autograd"

// SwiGLU is the Llama family's gated feed-forward: Down(silu(Gate(x)) · Up(x)), with Gate and
// Up mapping C to the hidden width H and Down mapping H back to C. Its parameters carry Hugging
// Face's names: gate_proj, up_proj, down_proj (with biases when built with bias, as mlp_bias
// asks).
type SwiGLU struct {
	Gate, Up, Down *Linear
	// GateUp, when set, replaces Gate and Up with one projection whose outputs are gate's then
	// up's (an inference view's stacked weights: one product to stream instead of two).
	GateUp *Linear
}

// NewSwiGLU builds a SwiGLU feed-forward from dim channels through hidden ones, its fresh weights
// drawn from N(0, std²) (gate and up) and N(0, downStd²) (down, the projection back into the
// residual stream, which GPT-2's initialisation scales down with depth).
func NewSwiGLU(b *Builder, dim, hidden int, bias bool, std, downStd float32) *SwiGLU {
	return &SwiGLU{
		Gate: NewLinear(b.Sub("gate_proj"), dim, hidden, bias, std),
		Up:   NewLinear(b.Sub("up_proj"), dim, hidden, bias, std),
		Down: NewLinear(b.Sub("down_proj"), hidden, dim, bias, downStd),
	}
}

// Forward maps x (B, T, C) to (B, T, C).
func (f *SwiGLU) Forward(x *autograd.Var) *autograd.Var {
	if f.GateUp != nil {
		both := f.GateUp.Forward(x) // (B, T, 2H)
		hidden := both.Shape()[2] / 2
		p := autograd.Split(both, 2, hidden, hidden)
		h := autograd.SiLUMul(p[0], p[1]) // (B, T, H)
		out := f.Down.Forward(h)
		discard(x, out, both, h) // gate and up are views of both
		return out
	}
	gate, up := f.Gate.Forward(x), f.Up.Forward(x)
	h := autograd.SiLUMul(gate, up) // (B, T, H)
	out := f.Down.Forward(h)
	discard(x, out, gate, up, h)
	return out
}
