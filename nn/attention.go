package nn

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// CausalSelfAttention is multi-head self-attention in which each position attends only to itself
// and earlier positions. Queries, keys and values come from one fused projection (c_attn).
type CausalSelfAttention struct {
	CAttn     *Linear // (3C, C): q, k, v stacked along the output axis
	CProj     *Linear // (C, C)
	NHead     int
	AttnDrop  Dropout // on the attention weights
	ResidDrop Dropout // on the output
}

// KVCache holds one attention layer's keys and values of the positions seen so far, so that
// generating a token does not recompute the prefix. K and V are (B, NH, T, HS).
type KVCache struct {
	K, V *tensor.Tensor
}

// Len returns the number of cached positions.
func (c *KVCache) Len() int {
	if c == nil || c.K == nil {
		return 0
	}
	return c.K.Dim(2)
}

// Forward maps x (B, T, C) to (B, T, C). With a non-nil cache (inference only), x holds the new
// positions, which attend to the cached ones too, and the cache is extended with them.
func (a *CausalSelfAttention) Forward(x *autograd.Var, cache *KVCache) *autograd.Var {
	shape := x.Shape()
	b, t, c := shape[0], shape[1], shape[2]
	nh := a.NHead
	hs := c / nh
	qkv := a.CAttn.Forward(x) // (B, T, 3C)
	attnDropout := a.AttnDrop.P > 0 && a.AttnDrop.Mode != nil && a.AttnDrop.Mode.Training
	if cache == nil && !attnDropout {
		// the fused kernel: same result as the steps below, without their copies
		y := autograd.CausalSelfAttention(qkv, nh) // (B, T, C)
		return a.ResidDrop.Forward(a.CProj.Forward(y))
	}
	parts := autograd.Split(qkv, 2, c, c, c)
	heads := func(p *autograd.Var) *autograd.Var { // (B, T, C) -> (B, NH, T, HS)
		return autograd.Permute(autograd.Reshape(p, b, t, nh, hs), 0, 2, 1, 3)
	}
	q, k, v := heads(parts[0]), heads(parts[1]), heads(parts[2])
	if cache != nil {
		k, v = cache.extend(k, v)
	}
	scale := float32(1 / math.Sqrt(float64(hs)))
	att := autograd.Scale(autograd.MatMulT(q, k), scale) // (B, NH, T, Tk)
	att = autograd.Softmax(autograd.CausalMask(att))
	att = a.AttnDrop.Forward(att)
	y := autograd.MatMul(att, v)                                   // (B, NH, T, HS)
	y = autograd.Reshape(autograd.Permute(y, 0, 2, 1, 3), b, t, c) // (B, T, C)
	return a.ResidDrop.Forward(a.CProj.Forward(y))
}

// Weights returns the attention weights (B, NH, T, T) that Forward applies to x (B, T, C):
// for each head, row i is the softmax of position i's scaled, causally masked scores over
// positions 0..i (dropout aside). It is for looking inside a model; Forward does not need it.
func (a *CausalSelfAttention) Weights(x *autograd.Var) *tensor.Tensor {
	qkv := a.CAttn.Forward(x) // (B, T, 3C)
	_, p := tensor.CausalAttention(qkv.Value, a.NHead)
	return p
}

// extend appends the new keys and values (B, NH, T, HS) to the cache and returns all of them.
func (c *KVCache) extend(k, v *autograd.Var) (*autograd.Var, *autograd.Var) {
	if k.RequiresGrad() {
		panic(fmt.Sprintf("nn.KVCache: keys of shape %v require a gradient, but a KV cache is for inference: run a Frozen copy of the layers", k.Shape()))
	}
	if c.K == nil {
		c.K, c.V = k.Value.Contiguous(), v.Value.Contiguous()
	} else {
		c.K = tensor.Concat(2, c.K, k.Value)
		c.V = tensor.Concat(2, c.V, v.Value)
	}
	return autograd.Const(c.K), autograd.Const(c.V)
}

// MLP is the position-wise feed-forward network: c_fc (C → 4C), GELU, c_proj (4C → C).
type MLP struct {
	CFc   *Linear
	Act   GELU
	CProj *Linear
	Drop  Dropout
}

// Forward maps x (B, T, C) to (B, T, C).
func (m *MLP) Forward(x *autograd.Var) *autograd.Var {
	return m.Drop.Forward(m.CProj.Forward(m.Act.Forward(m.CFc.Forward(x))))
}

// Block is one pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).
type Block struct {
	Ln1  *LayerNorm
	Attn *CausalSelfAttention
	Ln2  *LayerNorm
	MLP  *MLP
}

// BlockConfig sizes a Block.
type BlockConfig struct {
	NEmbd, NHead int
	NLayer       int     // total blocks in the model: residual projections are scaled by 1/√(2·NLayer)
	Bias         bool    // biases in Linear and LayerNorm layers
	Dropout      float32 // on attention weights, residual branches
	LayerNormEps float32
	GELUTanh     bool // GPT-2's tanh approximation instead of the exact GELU
}

// NewBlock builds a block with GPT-2's initialisation and Hugging Face's names (ln_1, attn.c_attn,
// attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj): weights N(0, 0.02²), the two residual projections
// N(0, (0.02/√(2·NLayer))²), zero biases, LayerNorm scales 1.
func NewBlock(b *Builder, cfg BlockConfig) *Block {
	c := cfg.NEmbd
	if cfg.NHead <= 0 || c%cfg.NHead != 0 {
		panic(fmt.Sprintf("nn.NewBlock: width %d is not divisible by %d heads", c, cfg.NHead))
	}
	const std = 0.02
	projStd := float32(std / math.Sqrt(2*float64(max(cfg.NLayer, 1))))
	drop := b.Dropout(cfg.Dropout)
	return &Block{
		Ln1: NewLayerNorm(b.Sub("ln_1"), c, cfg.Bias, cfg.LayerNormEps),
		Attn: &CausalSelfAttention{
			CAttn: NewLinear(b.Sub("attn.c_attn"), c, 3*c, cfg.Bias, std),
			CProj: NewLinear(b.Sub("attn.c_proj"), c, c, cfg.Bias, projStd),
			NHead: cfg.NHead, AttnDrop: drop, ResidDrop: drop,
		},
		Ln2: NewLayerNorm(b.Sub("ln_2"), c, cfg.Bias, cfg.LayerNormEps),
		MLP: &MLP{
			CFc:   NewLinear(b.Sub("mlp.c_fc"), c, 4*c, cfg.Bias, std),
			Act:   GELU{Tanh: cfg.GELUTanh},
			CProj: NewLinear(b.Sub("mlp.c_proj"), 4*c, c, cfg.Bias, projStd),
			Drop:  drop,
		},
	}
}

// Forward maps x (B, T, C) to (B, T, C); cache may be nil.
func (bl *Block) Forward(x *autograd.Var, cache *KVCache) *autograd.Var {
	x = autograd.Add(x, bl.Attn.Forward(bl.Ln1.Forward(x), cache))
	return autograd.Add(x, bl.MLP.Forward(bl.Ln2.Forward(x)))
}
