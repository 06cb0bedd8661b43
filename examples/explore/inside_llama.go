package main

// The Inside view's plain forward pass for a Llama-family decoder (Hugging Face's
// LlamaForCausalLM and its kin), written out as inside.go writes GPT-2's: RMSNorm, the q, k and v
// projections (k and v of the KV heads only), QK-norm where the model has it, the rotation of
// each query and key pair by position, softmax over the earlier tokens, the output projection,
// and the SwiGLU feed-forward. TestInsideMatchesTheModel checks it against the model.

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/nn"
)

// rmsNorm returns x / √(mean(x²) + eps) × weight.
func (f *refForward) rmsNorm(name string, x []float64) []float64 {
	w := f.params[name+".weight"]
	sq := 0.0
	for _, v := range x {
		sq += v * v
	}
	inv := 1 / math.Sqrt(sq/float64(len(x))+f.eps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * inv * float64(w[i])
	}
	return y
}

// headDim is HS.
func (f *refForward) headDim() int {
	if f.cfg.HeadDim > 0 {
		return f.cfg.HeadDim
	}
	return f.cfg.NEmbd / f.cfg.NHead
}

// kvHeadOf returns the KV head that query head h reads.
func (f *refForward) kvHeadOf(h int) int {
	nkv := f.cfg.NKVHead
	if nkv == 0 {
		nkv = f.cfg.NHead
	}
	return h / (f.cfg.NHead / nkv)
}

// rotate turns each head (HS wide) of v by position p: pair i (elements i and i + HS/2) by the
// angle p·invFreq[i], in place. QK-norm, when the model has it, comes first, per head.
func (f *refForward) rotate(v []float64, p int, norm string) {
	hs := f.headDim()
	half := hs / 2
	inv := nn.InvFreq(hs, f.theta(), f.cfg.RopeScaling)
	for h := 0; h < len(v)/hs; h++ {
		head := v[h*hs : (h+1)*hs]
		if f.cfg.QKNorm {
			copy(head, f.rmsNorm(norm, head))
		}
		for i := range half {
			sin, cos := math.Sincos(float64(p) * inv[i])
			x, y := head[i], head[i+half]
			head[i], head[i+half] = x*cos-y*sin, x*sin+y*cos
		}
	}
}

func (f *refForward) theta() float64 {
	if f.cfg.RopeTheta > 0 {
		return f.cfg.RopeTheta
	}
	return 10000
}

// llamaLayer is layer for a Llama-family decoder.
func (f *refForward) llamaLayer(l, pos int, out *insideResponse) {
	c, nh, hs := f.cfg.NEmbd, f.cfg.NHead, f.headDim()
	nkv := nh
	if f.cfg.NKVHead > 0 {
		nkv = f.cfg.NKVHead
	}
	pre := fmt.Sprintf("model.layers.%d.", l)
	t := len(f.x)
	q, k, v := make([][]float64, t), make([][]float64, t), make([][]float64, t)
	for i := range t {
		h := f.rmsNorm(pre+"input_layernorm", f.x[i])
		q[i] = f.linear(pre+"self_attn.q_proj", h, nh*hs)
		k[i] = f.linear(pre+"self_attn.k_proj", h, nkv*hs)
		v[i] = f.linear(pre+"self_attn.v_proj", h, nkv*hs)
		f.rotate(q[i], i, pre+"self_attn.q_norm")
		f.rotate(k[i], i, pre+"self_attn.k_norm")
	}
	if out != nil {
		out.FeedForward = "swiglu"
		for h := range nh {
			g := f.kvHeadOf(h)
			out.KVHead = append(out.KVHead, g)
			out.Q = append(out.Q, to32(q[pos][h*hs:(h+1)*hs]))
			out.K = append(out.K, to32(k[pos][g*hs:(g+1)*hs]))
			out.V = append(out.V, to32(v[pos][g*hs:(g+1)*hs]))
		}
	}
	ys := f.attend(q, k, v, nh, hs, pos, out)
	hidden := f.cfg.FFHidden
	if hidden == 0 {
		hidden = 4 * c
	}
	for i := range t {
		a := f.linear(pre+"self_attn.o_proj", ys[i], c)
		for j := range a {
			f.x[i][j] += a[j]
		}
		h := f.rmsNorm(pre+"post_attention_layernorm", f.x[i])
		gate, up := f.linear(pre+"mlp.gate_proj", h, hidden), f.linear(pre+"mlp.up_proj", h, hidden)
		for j, g := range gate {
			gate[j] = g / (1 + math.Exp(-g)) * up[j] // silu(gate) · up
		}
		if out != nil && i == pos {
			out.MLP = to32(gate)
		}
		m := f.linear(pre+"mlp.down_proj", gate, c)
		for j := range m {
			f.x[i][j] += m[j]
		}
	}
}
