package nn

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// The encoder and decoder layers of "Attention Is All You Need", as PyTorch's
// nn.TransformerEncoderLayer and nn.TransformerDecoderLayer build them (batch first), with their
// parameter names: self_attn, multihead_attn (cross-attention), linear1, linear2, norm1..norm3.
//
// Each sub-layer (attention, feed-forward) has a residual connection and a LayerNorm, in one of
// two orders:
//   - post-LN (the paper's, PyTorch's default): x = norm(x + sublayer(x));
//   - pre-LN (NormFirst): x = x + sublayer(norm(x)), which trains deep stacks more stably and
//     is what GPT-2 uses.

// LayerConfig sizes an encoder or decoder layer.
type LayerConfig struct {
	DModel       int     // C
	NHead        int     // NH; DModel must be divisible by it
	DimFF        int     // the feed-forward's hidden width
	Activation   string  // "relu" or "gelu" (the exact erf form), as PyTorch spells them
	NormFirst    bool    // pre-LN instead of post-LN
	LayerNormEps float32 // 0 means PyTorch's 1e-5
	Dropout      float32 // on attention weights, the feed-forward's hidden layer and each residual branch
}

func (c LayerConfig) eps() float32 {
	if c.LayerNormEps == 0 {
		return 1e-5
	}
	return c.LayerNormEps
}

// ReLU is max(x, 0), element-wise.
type ReLU struct{}

// Forward applies ReLU.
func (ReLU) Forward(x *autograd.Var) *autograd.Var { return autograd.ReLU(x) }

// Activation is an element-wise function between a feed-forward's two Linear layers.
type Activation interface {
	Forward(x *autograd.Var) *autograd.Var
}

// NewActivation returns the activation PyTorch's nn.Transformer calls name: "relu" or "gelu"
// (exact).
func NewActivation(name string) (Activation, error) {
	switch name {
	case "relu":
		return ReLU{}, nil
	case "gelu":
		return GELU{}, nil
	}
	return nil, fmt.Errorf("nn: activation %q is not supported (want relu or gelu)", name)
}

// FeedForward is the position-wise network of a transformer layer: linear2(drop(act(linear1(x)))).
type FeedForward struct {
	Linear1 *Linear // (DimFF, C)
	Act     Activation
	Drop    Dropout
	Linear2 *Linear // (C, DimFF)
}

// Forward maps x (B, T, C) to (B, T, C).
func (f *FeedForward) Forward(x *autograd.Var) *autograd.Var {
	return f.Linear2.Forward(f.Drop.Forward(f.Act.Forward(f.Linear1.Forward(x))))
}

// newTorchLinear builds a Linear with nn.Transformer's initialisation: a Xavier-uniform weight
// and nn.Linear's default bias, U(−1/√in, 1/√in).
func newTorchLinear(b *Builder, in, out int) *Linear {
	return NewLinearInit(b, in, out, true, Init{Kind: InitXavier},
		Init{Kind: InitUniform, Std: float32(1 / math.Sqrt(float64(in)))})
}

func newFeedForward(b *Builder, cfg LayerConfig) *FeedForward {
	act, err := NewActivation(cfg.Activation)
	if err != nil {
		panic(err.Error()) // configs are validated before layers are built
	}
	return &FeedForward{
		Linear1: newTorchLinear(b.Sub("linear1"), cfg.DModel, cfg.DimFF),
		Act:     act,
		Drop:    b.Dropout(cfg.Dropout),
		Linear2: newTorchLinear(b.Sub("linear2"), cfg.DimFF, cfg.DModel),
	}
}

// residual applies one sub-layer f with its residual connection and LayerNorm, in the layer's
// order.
func residual(x *autograd.Var, norm *LayerNorm, normFirst bool, drop Dropout, f func(*autograd.Var) *autograd.Var) *autograd.Var {
	if normFirst {
		return autograd.Add(x, drop.Forward(f(norm.Forward(x))))
	}
	return norm.Forward(autograd.Add(x, drop.Forward(f(x))))
}

// EncoderLayer is PyTorch's nn.TransformerEncoderLayer: self-attention, then the feed-forward.
type EncoderLayer struct {
	SelfAttn     *MultiheadAttention
	FF           *FeedForward // linear1, linear2
	Norm1, Norm2 *LayerNorm
	NormFirst    bool
	Drop1, Drop2 Dropout // on the two residual branches
}

// NewEncoderLayer builds an encoder layer with PyTorch's names and nn.Transformer's
// initialisation.
func NewEncoderLayer(b *Builder, cfg LayerConfig) *EncoderLayer {
	l := &EncoderLayer{
		SelfAttn:  NewMultiheadAttention(b.Sub("self_attn"), cfg.DModel, cfg.NHead, cfg.Dropout),
		FF:        newFeedForward(b, cfg),
		NormFirst: cfg.NormFirst,
		Drop1:     b.Dropout(cfg.Dropout),
		Drop2:     b.Dropout(cfg.Dropout),
	}
	l.Norm1 = NewLayerNorm(b.Sub("norm1"), cfg.DModel, true, cfg.eps())
	l.Norm2 = NewLayerNorm(b.Sub("norm2"), cfg.DModel, true, cfg.eps())
	return l
}

// Forward maps x (B, T, C) to (B, T, C). pad (B·T flags, or nil) marks the padding positions,
// which no position attends to.
func (l *EncoderLayer) Forward(x *autograd.Var, pad []bool) *autograd.Var {
	return l.forward(x, pad, nil)
}

// ForwardWeights is Forward that also returns the self-attention's weights (B, NH, T, T): how
// much each position looks at each other, per head.
func (l *EncoderLayer) ForwardWeights(x *autograd.Var, pad []bool) (*autograd.Var, *tensor.Tensor) {
	var w *tensor.Tensor
	y := l.forward(x, pad, &w)
	return y, w
}

func (l *EncoderLayer) forward(x *autograd.Var, pad []bool, weights **tensor.Tensor) *autograd.Var {
	mask := AttnMask{KeyPad: pad}
	x = residual(x, l.Norm1, l.NormFirst, l.Drop1, func(h *autograd.Var) *autograd.Var {
		if weights != nil {
			*weights = l.SelfAttn.Weights(h, h, mask)
		}
		return l.SelfAttn.Forward(h, h, mask)
	})
	return residual(x, l.Norm2, l.NormFirst, l.Drop2, l.FF.Forward)
}

// DecoderLayer is PyTorch's nn.TransformerDecoderLayer: causal self-attention, cross-attention
// over the encoder's output (queries from the decoder, keys and values from the memory), then the
// feed-forward.
type DecoderLayer struct {
	SelfAttn            *MultiheadAttention
	CrossAttn           *MultiheadAttention // PyTorch's multihead_attn
	FF                  *FeedForward
	Norm1, Norm2, Norm3 *LayerNorm
	NormFirst           bool
	Drop1, Drop2, Drop3 Dropout
}

// NewDecoderLayer builds a decoder layer with PyTorch's names and nn.Transformer's
// initialisation.
func NewDecoderLayer(b *Builder, cfg LayerConfig) *DecoderLayer {
	l := &DecoderLayer{
		SelfAttn:  NewMultiheadAttention(b.Sub("self_attn"), cfg.DModel, cfg.NHead, cfg.Dropout),
		CrossAttn: NewMultiheadAttention(b.Sub("multihead_attn"), cfg.DModel, cfg.NHead, cfg.Dropout),
		FF:        newFeedForward(b, cfg),
		NormFirst: cfg.NormFirst,
		Drop1:     b.Dropout(cfg.Dropout),
		Drop2:     b.Dropout(cfg.Dropout),
		Drop3:     b.Dropout(cfg.Dropout),
	}
	l.Norm1 = NewLayerNorm(b.Sub("norm1"), cfg.DModel, true, cfg.eps())
	l.Norm2 = NewLayerNorm(b.Sub("norm2"), cfg.DModel, true, cfg.eps())
	l.Norm3 = NewLayerNorm(b.Sub("norm3"), cfg.DModel, true, cfg.eps())
	return l
}

// Forward maps the target x (B, Tt, C) to (B, Tt, C), attending causally over itself and fully
// over mem (B, Ts, C), the encoder's output. tgtPad (B·Tt) and memPad (B·Ts) flag padding
// positions (nil: none).
func (l *DecoderLayer) Forward(x, mem *autograd.Var, tgtPad, memPad []bool) *autograd.Var {
	return l.forward(x, mem, tgtPad, memPad, nil)
}

// ForwardWeights is Forward that also returns the attention weights, per head: the causal
// self-attention's (B, NH, Tt, Tt), how much each target position looks at itself and the ones
// before it, and the cross-attention's (B, NH, Tt, Ts), how much it looks at each source position.
func (l *DecoderLayer) ForwardWeights(x, mem *autograd.Var, tgtPad, memPad []bool) (y *autograd.Var, self, cross *tensor.Tensor) {
	ws := [2]*tensor.Tensor{}
	y = l.forward(x, mem, tgtPad, memPad, &ws)
	return y, ws[0], ws[1]
}

func (l *DecoderLayer) forward(x, mem *autograd.Var, tgtPad, memPad []bool, weights *[2]*tensor.Tensor) *autograd.Var {
	self := AttnMask{Causal: true, KeyPad: tgtPad}
	x = residual(x, l.Norm1, l.NormFirst, l.Drop1, func(h *autograd.Var) *autograd.Var {
		if weights != nil {
			weights[0] = l.SelfAttn.Weights(h, h, self)
		}
		return l.SelfAttn.Forward(h, h, self)
	})
	x = residual(x, l.Norm2, l.NormFirst, l.Drop2, func(h *autograd.Var) *autograd.Var {
		if weights != nil {
			weights[1] = l.CrossAttn.Weights(h, mem, AttnMask{KeyPad: memPad})
		}
		return l.CrossAttn.Forward(h, mem, AttnMask{KeyPad: memPad})
	})
	return residual(x, l.Norm3, l.NormFirst, l.Drop3, l.FF.Forward)
}

// DecoderCache is what one decoder layer keeps while decoding: its self-attention's keys and
// values of the tokens so far, and its cross-attention's keys and values of the encoder output.
type DecoderCache struct {
	Self, Cross *AttnCache
}

// NewCache starts a decoding cache for the encoder output mem (B, Ts, C): the cross-attention's
// keys and values are computed here, once.
func (l *DecoderLayer) NewCache(mem *autograd.Var) *DecoderCache {
	return &DecoderCache{Self: &AttnCache{}, Cross: l.CrossAttn.CrossCache(mem)}
}

// Reorder makes row i of the cache old row rows[i], for both attentions.
func (c *DecoderCache) Reorder(rows []int) {
	c.Self.Reorder(rows)
	c.Cross.Reorder(rows)
}

// ForwardCached is Forward for decoding with a frozen view: x (B, T, C) holds the new target
// positions, which follow the cached ones. memPad flags the memory's padding (nil: none).
func (l *DecoderLayer) ForwardCached(x *autograd.Var, c *DecoderCache, memPad []bool) *autograd.Var {
	x = residual(x, l.Norm1, l.NormFirst, l.Drop1, func(h *autograd.Var) *autograd.Var {
		return l.SelfAttn.ForwardCached(h, c.Self, AttnMask{Causal: true})
	})
	x = residual(x, l.Norm2, l.NormFirst, l.Drop2, func(h *autograd.Var) *autograd.Var {
		return l.CrossAttn.ForwardCached(h, c.Cross, AttnMask{KeyPad: memPad})
	})
	return residual(x, l.Norm3, l.NormFirst, l.Drop3, l.FF.Forward)
}
