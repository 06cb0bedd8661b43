package nn

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// MultiheadAttention is PyTorch's nn.MultiheadAttention (batch first): queries come from one
// sequence and keys and values from another (cross-attention) or the same one (self-attention).
// Its parameters have PyTorch's names and layout, so a state dict copies name for name.
type MultiheadAttention struct {
	InProjWeight *autograd.Var // (3C, C): the q, k and v projections stacked, q first
	InProjBias   *autograd.Var // (3C)
	OutProj      *Linear       // (C, C)
	NHead        int
	Drop         Dropout // on the attention weights
}

// AttnMask says which keys each query may see.
type AttnMask struct {
	// Causal hides from query i the keys after it: with Tq queries and Tk keys, the queries are
	// the last Tq of Tk positions, and query i sees keys j ≤ i + Tk − Tq.
	Causal bool
	// KeyPad holds B·Tk flags, row-major; a key whose flag is true (padding) is seen by no query
	// (PyTorch's key_padding_mask). nil: every key is seen.
	KeyPad []bool
}

// NewMultiheadAttention builds attention over dim channels in nHead heads with PyTorch's names
// (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias) and nn.Transformer's
// initialisation: Xavier-uniform weights, zero biases. dropout applies to the attention weights.
func NewMultiheadAttention(b *Builder, dim, nHead int, dropout float32) *MultiheadAttention {
	if nHead <= 0 || dim%nHead != 0 {
		panic(fmt.Sprintf("nn.NewMultiheadAttention: width %d is not divisible by %d heads", dim, nHead))
	}
	zeros := Init{Kind: InitZeros}
	return &MultiheadAttention{
		InProjWeight: b.Param("in_proj_weight", LayerLinear, Init{Kind: InitXavier}, 3*dim, dim),
		InProjBias:   b.Param("in_proj_bias", LayerLinear, zeros, 3*dim),
		OutProj:      NewLinearInit(b.Sub("out_proj"), dim, dim, true, Init{Kind: InitXavier}, zeros),
		NHead:        nHead,
		Drop:         b.Dropout(dropout),
	}
}

// project returns x·W[rows]ᵀ + b[rows] for the rows [lo, lo+n) of the stacked projection:
// (B, T, C) → (B, T, n).
func (a *MultiheadAttention) project(x *autograd.Var, lo, n int) *autograd.Var {
	w, bias := a.InProjWeight, a.InProjBias
	if lo != 0 || n != w.Value.Dim(0) {
		w, bias = autograd.Narrow(w, 0, lo, n), autograd.Narrow(bias, 0, lo, n)
	}
	return autograd.Add(autograd.MatMulT(x, w), bias)
}

// qkv projects the queries from x (B, Tq, C) and the keys and values from mem (B, Tk, C): one
// product for self-attention (mem == x), two for cross-attention. The results are views.
func (a *MultiheadAttention) qkv(x, mem *autograd.Var) (q, k, v *autograd.Var) {
	c := x.Shape()[2]
	if mem == x {
		p := autograd.Split(a.project(x, 0, 3*c), 2, c, c, c) // (B, T, 3C) → 3 × (B, T, C)
		return p[0], p[1], p[2]
	}
	kv := autograd.Split(a.project(mem, c, 2*c), 2, c, c) // (B, Tk, 2C) → 2 × (B, Tk, C)
	return a.project(x, 0, c), kv[0], kv[1]
}

// Forward attends from the queries of x (B, Tq, C) to the keys and values of mem (B, Tk, C) and
// returns (B, Tq, C). Pass mem == x for self-attention.
func (a *MultiheadAttention) Forward(x, mem *autograd.Var, mask AttnMask) *autograd.Var {
	q, k, v := a.qkv(x, mem)
	return a.OutProj.Forward(a.attend(q, k, v, mask))
}

// attend is the attention proper, (B, Tq, C) queries over (B, Tk, C) keys and values, before the
// output projection. It runs the fused kernel unless dropout on the weights is active, which
// only the plain composition applies.
func (a *MultiheadAttention) attend(q, k, v *autograd.Var, mask AttnMask) *autograd.Var {
	if a.Drop.P > 0 && a.Drop.Mode != nil && a.Drop.Mode.Training {
		y, _ := Attend(q, k, v, a.NHead, mask, a.Drop)
		return y
	}
	return autograd.Attention(q, k, v, a.NHead, mask.Causal, mask.KeyPad)
}

// Weights returns the attention weights (B, NH, Tq, Tk) of the queries of x over the keys of
// mem, as Forward computes them (without dropout): what a plot of attention shows.
func (a *MultiheadAttention) Weights(x, mem *autograd.Var, mask AttnMask) *tensor.Tensor {
	q, k, v := a.qkv(x, mem)
	_, p := Attend(q, k, v, a.NHead, mask, Dropout{})
	return p.Value
}

// Attend is multi-head attention written out step by step, the way to read it and the oracle of
// the fused kernel: split q (B, Tq, C) and k, v (B, Tk, C) into NH heads of HS channels, score
// every query against every key (q·kᵀ/√HS), hide the masked keys (−Inf), normalise the scores
// into weights with softmax, apply drop to them, and mix the values with the weights. It returns
// the heads merged back (B, Tq, C) and the weights (B, NH, Tq, Tk).
func Attend(q, k, v *autograd.Var, nHead int, mask AttnMask, drop Dropout) (y, weights *autograd.Var) {
	b, tq, c := q.Shape()[0], q.Shape()[1], q.Shape()[2]
	tk := k.Shape()[1]
	hs := c / nHead
	heads := func(p *autograd.Var, t int) *autograd.Var { // (B, T, C) → (B, NH, T, HS)
		return autograd.Permute(autograd.Reshape(p, b, t, nHead, hs), 0, 2, 1, 3)
	}
	scale := float32(1 / math.Sqrt(float64(hs)))
	att := autograd.Scale(autograd.MatMulT(heads(q, tq), heads(k, tk)), scale) // (B, NH, Tq, Tk)
	if mask.Causal {
		att = autograd.CausalMask(att)
	}
	if mask.KeyPad != nil {
		att = autograd.KeyPaddingMask(att, mask.KeyPad)
	}
	weights = autograd.Softmax(att)
	y = autograd.MatMul(drop.Forward(weights), heads(v, tk))                    // (B, NH, Tq, HS)
	return autograd.Reshape(autograd.Permute(y, 0, 2, 1, 3), b, tq, c), weights // (B, Tq, C)
}

// AttnCache holds the keys and values (B, Tk, C) that one attention layer attends over while
// decoding, so that each new token costs one position's work. A self-attention cache (the zero
// value) grows by the new positions at each step; a cross-attention cache (CrossCache) holds the
// keys and values of the encoder's output, computed once per source.
type AttnCache struct {
	K, V  *tensor.Tensor
	cross bool
}

// Len returns the number of cached key positions.
func (c *AttnCache) Len() int {
	if c == nil || c.K == nil {
		return 0
	}
	return c.K.Dim(1)
}

// Reorder makes row i of the cache a copy of old row rows[i] (rows may repeat or drop rows):
// beam search keeps the caches of the hypotheses it extends.
func (c *AttnCache) Reorder(rows []int) {
	if c.K == nil {
		return
	}
	c.K, c.V = gatherRows(c.K, rows), gatherRows(c.V, rows)
}

// gatherRows returns (len(rows), T, C) from t (B, T, C) by batch row.
func gatherRows(t *tensor.Tensor, rows []int) *tensor.Tensor {
	s := t.Shape()
	flat := t.Contiguous().Reshape(s[0], s[1]*s[2])
	return tensor.Gather(flat, rows).Reshape(len(rows), s[1], s[2])
}

// CrossCache computes the keys and values of mem (B, Tk, C), an encoder's output, once, for
// ForwardCached to attend over at every decoding step.
func (a *MultiheadAttention) CrossCache(mem *autograd.Var) *AttnCache {
	c := mem.Shape()[2]
	kv := a.project(mem, c, 2*c).Value // (B, Tk, 2C)
	parts := tensor.Split(kv, 2, c, c)
	return &AttnCache{K: parts[0].Contiguous(), V: parts[1].Contiguous(), cross: true}
}

// ForwardCached is Forward for decoding, on a model whose parameters are constants (a frozen
// view). x (B, Tq, C) holds the new positions. With a self-attention cache, their keys and values
// are appended to the cache and the queries attend over all cached positions (mask.Causal then
// lets each see the positions up to its own); with a cross-attention cache, they attend over the
// encoder's keys and values. mask.KeyPad, if set, has one flag per key the cache holds after the
// step.
func (a *MultiheadAttention) ForwardCached(x *autograd.Var, cache *AttnCache, mask AttnMask) *autograd.Var {
	if x.RequiresGrad() {
		panic("nn.MultiheadAttention.ForwardCached: a cache is for inference; decode with a frozen view")
	}
	var q *autograd.Var
	if cache.cross {
		q = a.project(x, 0, a.InProjWeight.Value.Dim(1))
	} else {
		c := x.Shape()[2]
		p := tensor.Split(a.project(x, 0, 3*c).Value, 2, c, c, c) // (B, T, 3C) → 3 × (B, T, C)
		q = autograd.Const(p[0])
		if cache.K == nil {
			cache.K, cache.V = p[1].Contiguous(), p[2].Contiguous()
		} else {
			cache.K, cache.V = tensor.Concat(1, cache.K, p[1]), tensor.Concat(1, cache.V, p[2])
		}
	}
	y := autograd.Attention(q, autograd.Const(cache.K), autograd.Const(cache.V), a.NHead, mask.Causal, mask.KeyPad)
	return a.OutProj.Forward(y)
}
