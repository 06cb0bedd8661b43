package nn

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Legend: B batch, T (Tq) query positions, Tk key positions, C channels, NH query heads, NKV
// key/value heads, HS head size (C/NH in GPT-2 and nn.Transformer, not necessarily elsewhere).

// Norm normalises over the last axis (LayerNorm, RMSNorm).
type Norm interface {
	Forward(x *autograd.Var) *autograd.Var
}

// FeedForward is a block's position-wise network (GELU MLP, ReLU, SwiGLU): (B, T, C) → (B, T, C).
type FeedForward interface {
	Forward(x *autograd.Var) *autograd.Var
}

// Rotation rotates queries or keys by position (rotary embeddings). x is (B, T, NH, HS);
// pos holds T positions (the same for every row) or B·T (one per row and step).
type Rotation interface {
	Rotate(x *autograd.Var, pos []int) *autograd.Var
}

// Attention is multi-head attention, the one attention layer of every model: self-attention
// (GPT-2's attn, nn.Transformer's self_attn, Llama's self_attn) or cross-attention (the decoder's
// multihead_attn, whose keys and values come from the encoder's output), causal or not, with
// key padding, grouped KV heads (NKV < NH: query head h reads KV head h / (NH/NKV)), an
// optional rotation of queries and keys (rotary positions) and an optional norm of each head's
// queries and keys (Qwen3's QK-norm).
//
// The projections are either fused, QKV (W, C) with W = (NH + 2·NKV)·HS holding the q, k and v
// weights stacked (GPT-2's c_attn, PyTorch's in_proj_weight), or separate, Q, K and V (Llama's
// q_proj, k_proj, v_proj), each with or without bias. Out maps the heads back to C.
type Attention struct {
	QKV     *Linear // (W, C), or nil with separate projections
	Q, K, V *Linear // (NH·HS, C), (NKV·HS, C), (NKV·HS, C); nil with QKV
	Out     *Linear // (C, NH·HS)

	NHead   int // NH
	NKVHead int // NKV; 0 means NH
	HeadDim int // HS; 0 means C/NH
	Causal  bool

	Rotary       Rotation // applied to q and k after QNorm/KNorm; nil: none
	QNorm, KNorm Norm     // applied to each head (B, T, NH, HS) of q and k; nil: none
	Drop         Dropout  // on the attention weights
}

// AttnInput is what one forward pass of an Attention sees besides its input x.
type AttnInput struct {
	// Mem is the encoder's output (B, Tk, C) that cross-attention takes its keys and values
	// from; nil for self-attention.
	Mem *autograd.Var
	// KeyPad holds B·Tk flags, true at keys no query may see (padding); nil: none.
	KeyPad []bool
	// Pos holds the positions of x's T steps, T of them (every row) or B·T, for the rotation;
	// nil: 0..T−1, after the cached positions of each row.
	Pos []int
	// Cache, for inference, holds the keys and values of the positions seen so far (extended
	// with x's), or a cross-attention's fixed keys and values (CrossCache).
	Cache *KVCache
	// Weights, if not nil, receives the attention weights (B, NH, Tq, Tk) the layer applies
	// (dropout aside): for looking inside a model.
	Weights func(p *tensor.Tensor)
}

func (a *Attention) kvHeads() int {
	if a.NKVHead == 0 {
		return a.NHead
	}
	return a.NKVHead
}

func (a *Attention) headDim() int {
	if a.HeadDim != 0 {
		return a.HeadDim
	}
	if a.QKV != nil {
		return a.QKV.outDim() / (a.NHead + 2*a.kvHeads())
	}
	return a.Q.outDim() / a.NHead
}

func (a *Attention) spec(pad []bool) tensor.Attn {
	return tensor.Attn{Heads: a.NHead, KVHeads: a.kvHeads(), Causal: a.Causal, KeyPad: pad}
}

// Forward maps x (B, T, C) to (B, T, C): the attention of x's queries over the keys and values
// of x (self-attention, in.Mem nil) or of in.Mem (cross-attention).
func (a *Attention) Forward(x *autograd.Var, in AttnInput) *autograd.Var {
	var temps []*autograd.Var // intermediates to recycle once the output exists (see discard)
	q, k, v := a.project(x, in, &temps)
	var y *autograd.Var
	switch {
	case in.Cache != nil:
		y = in.Cache.attend(q, k, v, a.spec(in.KeyPad), in.Weights)
	case in.Weights != nil || a.Drop.active():
		var w *autograd.Var
		y, w = Attend(q, k, v, a.spec(in.KeyPad), a.Drop)
		if in.Weights != nil {
			in.Weights(w.Value)
		}
	default:
		// the fused kernel: what Attend computes, without its copies
		y = autograd.Attention(q, k, v, a.spec(in.KeyPad))
	}
	out := a.Out.Forward(y)
	if !out.RequiresGrad() {
		discard(x, out, append(temps, y)...) // (in.Mem is never among them)
	}
	return out
}

// project returns the queries (B, T, NH·HS) and, unless a cross-attention cache holds them, the
// keys and values (B, Tk, NKV·HS), normalised and rotated as the layer says. It adds to temps
// every tensor it computes (views aside), for Forward to recycle.
func (a *Attention) project(x *autograd.Var, in AttnInput, temps *[]*autograd.Var) (q, k, v *autograd.Var) {
	hs := a.headDim()
	cross := in.Cache != nil && in.Cache.cross
	switch {
	case a.QKV != nil && in.Mem == nil && !cross:
		nq, nkv := a.NHead*hs, a.kvHeads()*hs
		qkv := a.QKV.Forward(x)
		*temps = append(*temps, qkv)
		p := autograd.Split(qkv, 2, nq, nkv, nkv) // (B, T, W) → views of q, k, v
		q, k, v = p[0], p[1], p[2]
	case a.QKV != nil:
		q = a.QKV.rows(x, 0, a.NHead*hs)
		*temps = append(*temps, q)
	default:
		q = a.Q.Forward(x)
		*temps = append(*temps, q)
	}
	if k == nil && !cross {
		src := x
		if in.Mem != nil {
			src = in.Mem
		}
		k, v = a.keysValues(src)
		*temps = append(*temps, k, v) // views of one projection with QKV: recycled below it
	}
	if a.QNorm == nil && a.KNorm == nil && (a.Rotary == nil || in.Mem != nil || cross) {
		return q, k, v
	}
	pos := in.Pos
	if pos == nil {
		pos = in.Cache.Positions(x.Shape()[0], x.Shape()[1])
	}
	q = a.perHead(q, hs, a.QNorm, pos, in.Mem == nil && !cross, temps)
	if k != nil {
		k = a.perHead(k, hs, a.KNorm, pos, in.Mem == nil, temps)
	}
	return q, k, v
}

// keysValues projects the keys and values (B, Tk, NKV·HS) from src (B, Tk, C).
func (a *Attention) keysValues(src *autograd.Var) (k, v *autograd.Var) {
	if a.QKV == nil {
		return a.K.Forward(src), a.V.Forward(src)
	}
	hs := a.headDim()
	nq, nkv := a.NHead*hs, a.kvHeads()*hs
	p := autograd.Split(a.QKV.rows(src, nq, 2*nkv), 2, nkv, nkv)
	return p[0], p[1]
}

// perHead applies norm and (with rotate) the rotation to each head of x (B, T, N·HS). Only
// self-attention rotates: positions of two sequences are not comparable.
func (a *Attention) perHead(x *autograd.Var, hs int, norm Norm, pos []int, rotate bool, temps *[]*autograd.Var) *autograd.Var {
	s := x.Shape()
	h := autograd.Reshape(x, s[0], s[1], s[2]/hs, hs) // (B, T, N, HS)
	if norm != nil {
		h = norm.Forward(h)
		*temps = append(*temps, h)
	}
	if a.Rotary != nil && rotate {
		h = a.Rotary.Rotate(h, pos)
		*temps = append(*temps, h)
	}
	return autograd.Reshape(h, s...)
}

// Attend is attention written out step by step, the way to read it and the oracle of the fused
// kernel: split q (B, Tq, NH·HS) and k, v (B, Tk, NKV·HS) into heads, score every query against
// every key of its KV head (q·kᵀ/√HS), hide the masked keys (−Inf), normalise the scores into
// weights with softmax, apply drop to them, and mix the values with the weights. It returns the
// heads merged back (B, Tq, NH·HS) and the weights (B, NH, Tq, Tk). (A query that sees no key
// gets NaN here, 0 from the fused kernel.)
func Attend(q, k, v *autograd.Var, s tensor.Attn, drop Dropout) (y, weights *autograd.Var) {
	b, tq, tk := q.Shape()[0], q.Shape()[1], k.Shape()[1]
	nh, nkv := s.Heads, s.KVHeads
	if nkv == 0 {
		nkv = nh
	}
	hs, g := q.Shape()[2]/nh, nh/nkv
	heads := func(p *autograd.Var, t, n int) *autograd.Var { // (B, T, N·HS) → (B, N, T, HS)
		return autograd.Permute(autograd.Reshape(p, b, t, n, hs), 0, 2, 1, 3)
	}
	// the g query heads that share a KV head, one after another: (B, NKV, g·Tq, HS)
	qg := autograd.Reshape(heads(q, tq, nh), b, nkv, g*tq, hs)
	scale := float32(1 / math.Sqrt(float64(hs)))
	att := autograd.Scale(autograd.MatMulT(qg, heads(k, tk, nkv)), scale) // (B, NKV, g·Tq, Tk)
	att = autograd.Reshape(att, b, nh, tq, tk)                            // (B, NH, Tq, Tk)
	if s.Causal {
		att = autograd.CausalMask(att)
	}
	if s.KeyPad != nil { // −Inf added to the padded keys' scores: softmax gives them weight 0
		bias := make([]float32, len(s.KeyPad))
		for i, padded := range s.KeyPad {
			if padded {
				bias[i] = float32(math.Inf(-1))
			}
		}
		att = autograd.Add(att, autograd.Const(tensor.FromSlice(bias, b, 1, 1, tk)))
	}
	weights = autograd.Softmax(att)
	wg := autograd.Reshape(drop.Forward(weights), b, nkv, g*tq, tk)
	y = autograd.Reshape(autograd.MatMul(wg, heads(v, tk, nkv)), b, nh, tq, hs)     // (B, NH, Tq, HS)
	return autograd.Reshape(autograd.Permute(y, 0, 2, 1, 3), b, tq, nh*hs), weights // (B, Tq, NH·HS)
}

// CrossCache computes the keys and values of mem (B, Tk, C), an encoder's output, once, for a
// cross-attention to attend over at every decoding step (AttnInput.Cache).
func (a *Attention) CrossCache(mem *autograd.Var) *KVCache {
	k, v := a.keysValues(mem)
	if a.KNorm != nil {
		k = a.perHead(k, a.headDim(), a.KNorm, nil, false, new([]*autograd.Var))
	}
	c := &KVCache{cross: true}
	c.append(k.Value, v.Value)
	return c
}

// rows returns x·W[lo:lo+n]ᵀ + b[lo:lo+n]: the output features [lo, lo+n) of the layer, as a
// fused projection's q or k and v alone.
func (l *Linear) rows(x *autograd.Var, lo, n int) *autograd.Var {
	if l.LoRA != nil {
		return autograd.Narrow(l.Forward(x), 2, lo, n)
	}
	var b *autograd.Var
	if l.Bias != nil {
		b = autograd.Narrow(l.Bias, 0, lo, n)
	}
	return l.W().Narrow(lo, n).MulT(x, b)
}

// outDim returns the layer's output width (W's rows).
func (l *Linear) outDim() int {
	n, _ := l.W().Dims()
	return n
}

func (d Dropout) active() bool { return d.P > 0 && d.Mode != nil && d.Mode.Training }

// checkHeads panics unless nh heads divide the width c.
func checkHeads(op string, c, nh int) {
	if nh <= 0 || c%nh != 0 {
		panic(fmt.Sprintf("nn.%s: width %d is not divisible by %d heads", op, c, nh))
	}
}
