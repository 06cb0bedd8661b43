package nn

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Block is one transformer layer, the one block shape of every model: a self-attention
// sub-layer, optionally a cross-attention sub-layer over an encoder's output (a decoder layer),
// and a feed-forward sub-layer, each with a residual connection and a norm, in one of two
// orders:
//   - pre-norm (GPT-2, Llama, nn.Transformer's norm_first): x = x + sublayer(norm(x)), which
//     trains deep stacks more stably;
//   - post-norm (PostNorm; "Attention Is All You Need", PyTorch's default):
//     x = norm(x + sublayer(x)).
//
// GPT-2's blocks (NewBlock), nn.Transformer's encoder and decoder layers (NewEncoderLayer,
// NewDecoderLayer) and the Llama family's are all this Block with other parts and names.
type Block struct {
	AttnNorm  Norm       // GPT-2's ln_1, nn.Transformer's norm1
	Attn      *Attention // self-attention
	CrossNorm Norm       // a decoder layer's norm2; nil without cross-attention
	Cross     *Attention // a decoder layer's multihead_attn; nil but in a decoder layer
	FFNorm    Norm       // GPT-2's ln_2, nn.Transformer's norm2 (norm3 in a decoder layer)
	FF        FeedForward
	PostNorm  bool
	// dropout on the residual branches: after the self-attention's output projection, the
	// cross-attention's, and the feed-forward
	AttnDrop, CrossDrop, FFDrop Dropout
}

// BlockInput is what one forward pass of a block sees besides its input x (B, T, C).
type BlockInput struct {
	// Pad holds B·T flags, true at x's padding positions, which no position attends to; nil: none.
	Pad []bool
	// Pos holds x's positions for a rotation (see AttnInput.Pos); nil: 0..T−1 after the cache.
	Pos []int
	// Mem is the encoder's output (B, Ts, C) for the cross-attention, MemPad its padding flags
	// (B·Ts, or nil).
	Mem    *autograd.Var
	MemPad []bool
	// Cache and CrossCache, for inference, are the self-attention's KV cache and the
	// cross-attention's (Attention.CrossCache); nil: none.
	Cache, CrossCache *KVCache
	// Weights, if not nil, receives the attention weights (B, NH, Tq, Tk) of the self-attention
	// (cross false) and the cross-attention (cross true).
	Weights func(cross bool, p *tensor.Tensor)
}

// Forward maps x (B, T, C) to (B, T, C).
func (bl *Block) Forward(x *autograd.Var, in BlockInput) *autograd.Var {
	self := AttnInput{KeyPad: in.Pad, Pos: in.Pos, Cache: in.Cache}
	cross := AttnInput{Mem: in.Mem, KeyPad: in.MemPad, Cache: in.CrossCache}
	if in.Weights != nil {
		self.Weights = func(p *tensor.Tensor) { in.Weights(false, p) }
		cross.Weights = func(p *tensor.Tensor) { in.Weights(true, p) }
	}
	// the residual stream between sub-layers is the block's own intermediate: the caller recycles
	// the block's input and output, the block what lies between (see discard)
	h := bl.sublayer(x, bl.AttnNorm, bl.AttnDrop, func(h *autograd.Var) *autograd.Var { return bl.Attn.Forward(h, self) })
	if bl.Cross != nil {
		next := bl.sublayer(h, bl.CrossNorm, bl.CrossDrop, func(h *autograd.Var) *autograd.Var { return bl.Cross.Forward(h, cross) })
		discard(x, next, h)
		h = next
	}
	out := bl.sublayer(h, bl.FFNorm, bl.FFDrop, bl.FF.Forward)
	discard(x, out, h)
	return out
}

// sublayer applies f with its residual connection and norm, in the block's order.
// Without a gradient to compute (inference), the sub-layer's intermediates are recycled as soon
// as its output exists (see discard).
func (bl *Block) sublayer(x *autograd.Var, norm Norm, drop Dropout, f func(*autograd.Var) *autograd.Var) *autograd.Var {
	if bl.PostNorm {
		y := f(x)
		sum := autograd.Add(x, drop.Forward(y))
		out := norm.Forward(sum)
		discard(x, out, y, sum)
		return out
	}
	h := norm.Forward(x)
	y := f(h)
	out := autograd.Add(x, drop.Forward(y))
	discard(x, out, h, y)
	return out
}

// discard recycles the values of temps, intermediates that nothing reads any more, where no
// gradient needs them (autograd.Discard), except in and out, which the caller and its caller
// still read. A decoding step makes some 20 small tensors a layer: taken from the runtime each
// time, in fresh memory that the collector seldom returns while gigabytes of weights fill the
// heap, they cost a SmolLM2-shaped step more than its kernels (see BenchmarkDecodeStepSmolLM2).
//
// Nothing is recycled while out requires a gradient: a temp that needs none itself (a norm's
// output before a LoRA adapter, say) can still be read by the backward pass of out's graph.
func discard(in, out *autograd.Var, temps ...*autograd.Var) {
	if out.RequiresGrad() {
		return
	}
	for _, t := range temps {
		if t != in && t != out {
			autograd.Discard(t)
		}
	}
}

// MLP is the position-wise feed-forward network of GPT-2 and nn.Transformer:
// Down(drop(act(Up(x)))), (B, T, C) → (B, T, C).
type MLP struct {
	Up   *Linear // (hidden, C): GPT-2's c_fc, nn.Transformer's linear1
	Act  Activation
	Drop Dropout // on the hidden layer (nn.Transformer's; GPT-2 has none)
	Down *Linear // (C, hidden): c_proj, linear2
}

// Forward maps x (B, T, C) to (B, T, C).
func (m *MLP) Forward(x *autograd.Var) *autograd.Var {
	up := m.Up.Forward(x)
	act := m.Act.Forward(up)
	out := m.Down.Forward(m.Drop.Forward(act))
	discard(x, out, up, act)
	return out
}

// Activation is an element-wise function between a feed-forward's two Linear layers.
type Activation interface {
	Forward(x *autograd.Var) *autograd.Var
}

// ReLU is max(x, 0), element-wise.
type ReLU struct{}

// Forward applies ReLU.
func (ReLU) Forward(x *autograd.Var) *autograd.Var { return autograd.ReLU(x) }

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

// BlockConfig sizes a GPT-2 block.
type BlockConfig struct {
	NEmbd, NHead int
	NLayer       int     // total blocks in the model: residual projections are scaled by 1/√(2·NLayer)
	Bias         bool    // biases in Linear and LayerNorm layers
	Dropout      float32 // on attention weights, residual branches
	LayerNormEps float32
	GELUTanh     bool // GPT-2's tanh approximation instead of the exact GELU
}

// NewBlock builds a GPT-2 block (pre-norm, causal self-attention, GELU MLP of width 4C) with
// GPT-2's initialisation and Hugging Face's names (ln_1, attn.c_attn, attn.c_proj, ln_2,
// mlp.c_fc, mlp.c_proj): weights N(0, 0.02²), the two residual projections
// N(0, (0.02/√(2·NLayer))²), zero biases, LayerNorm scales 1.
func NewBlock(b *Builder, cfg BlockConfig) *Block {
	c := cfg.NEmbd
	checkHeads("NewBlock", c, cfg.NHead)
	const std = 0.02
	projStd := float32(std / math.Sqrt(2*float64(max(cfg.NLayer, 1))))
	drop := b.Dropout(cfg.Dropout)
	return &Block{
		AttnNorm: NewLayerNorm(b.Sub("ln_1"), c, cfg.Bias, cfg.LayerNormEps),
		Attn: &Attention{
			QKV:   NewLinear(b.Sub("attn.c_attn"), c, 3*c, cfg.Bias, std),
			Out:   NewLinear(b.Sub("attn.c_proj"), c, c, cfg.Bias, projStd),
			NHead: cfg.NHead, Causal: true, Drop: drop,
		},
		FFNorm: NewLayerNorm(b.Sub("ln_2"), c, cfg.Bias, cfg.LayerNormEps),
		FF: &MLP{
			Up:   NewLinear(b.Sub("mlp.c_fc"), c, 4*c, cfg.Bias, std),
			Act:  GELU{Tanh: cfg.GELUTanh},
			Down: NewLinear(b.Sub("mlp.c_proj"), 4*c, c, cfg.Bias, projStd),
		},
		AttnDrop: drop, FFDrop: drop,
	}
}

// LayerConfig sizes an encoder or decoder layer of nn.Transformer.
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

// NewEncoderLayer builds PyTorch's nn.TransformerEncoderLayer (batch first) as a Block:
// self-attention, then the feed-forward, with PyTorch's names (self_attn.in_proj_weight, …,
// linear1, linear2, norm1, norm2) and nn.Transformer's initialisation.
func NewEncoderLayer(b *Builder, cfg LayerConfig) *Block {
	return newTorchLayer(b, cfg, false)
}

// NewDecoderLayer builds PyTorch's nn.TransformerDecoderLayer as a Block: causal
// self-attention, cross-attention over the encoder's output (multihead_attn: queries from the
// decoder, keys and values from the memory), then the feed-forward (norm1..norm3).
func NewDecoderLayer(b *Builder, cfg LayerConfig) *Block {
	return newTorchLayer(b, cfg, true)
}

func newTorchLayer(b *Builder, cfg LayerConfig, decoder bool) *Block {
	act, err := NewActivation(cfg.Activation)
	if err != nil {
		panic(err.Error()) // configs are validated before layers are built
	}
	l := &Block{
		Attn:     newTorchAttention(b.Sub("self_attn"), cfg, decoder),
		PostNorm: !cfg.NormFirst,
		AttnDrop: b.Dropout(cfg.Dropout), CrossDrop: b.Dropout(cfg.Dropout), FFDrop: b.Dropout(cfg.Dropout),
	}
	if decoder {
		l.Cross = newTorchAttention(b.Sub("multihead_attn"), cfg, false)
	}
	l.FF = &MLP{
		Up:   newTorchLinear(b.Sub("linear1"), cfg.DModel, cfg.DimFF),
		Act:  act,
		Drop: b.Dropout(cfg.Dropout),
		Down: newTorchLinear(b.Sub("linear2"), cfg.DimFF, cfg.DModel),
	}
	norm := func(i int) Norm { return NewLayerNorm(b.Subf("norm%d", i), cfg.DModel, true, cfg.eps()) }
	l.AttnNorm = norm(1)
	if decoder {
		l.CrossNorm, l.FFNorm = norm(2), norm(3)
	} else {
		l.FFNorm = norm(2)
	}
	return l
}

// newTorchAttention builds PyTorch's nn.MultiheadAttention (batch first) with its names
// (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias) and nn.Transformer's
// initialisation: Xavier-uniform weights, zero biases.
func newTorchAttention(b *Builder, cfg LayerConfig, causal bool) *Attention {
	c := cfg.DModel
	checkHeads("NewMultiheadAttention", c, cfg.NHead)
	zeros := Init{Kind: InitZeros}
	in := &Linear{}
	in.Weight, in.Compact = b.Matrix("in_proj_weight", LayerLinear, Init{Kind: InitXavier}, 3*c, c)
	in.Bias = b.Param("in_proj_bias", LayerLinear, zeros, 3*c)
	return &Attention{
		QKV:   in,
		Out:   NewLinearInit(b.Sub("out_proj"), c, c, true, Init{Kind: InitXavier}, zeros),
		NHead: cfg.NHead, Causal: causal, Drop: b.Dropout(cfg.Dropout),
	}
}

// newTorchLinear builds a Linear with nn.Transformer's initialisation: a Xavier-uniform weight
// and nn.Linear's default bias, U(−1/√in, 1/√in).
func newTorchLinear(b *Builder, in, out int) *Linear {
	return NewLinearInit(b, in, out, true, Init{Kind: InitXavier},
		Init{Kind: InitUniform, Std: float32(1 / math.Sqrt(float64(in)))})
}
