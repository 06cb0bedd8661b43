package nn

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
)

// Linear is y = x·Wᵀ + b with W (out, in) and b (out), or no b when built without bias.
type Linear struct {
	Weight *autograd.Var // (out, in); nil when Compact holds W
	Bias   *autograd.Var // (out), or nil
	// Compact holds W instead of Weight in an inference view with compact weights
	// (NewCompactBuilder); nil otherwise.
	Compact CompactWeight
	// LoRA, when not nil, adds a low-rank adapter's term to the output (fine-tuning with W
	// frozen); nil otherwise.
	LoRA *LoRA
}

// NewLinear builds a Linear layer whose fresh weights are drawn from N(0, std²), with zero bias.
func NewLinear(b *Builder, in, out int, bias bool, std float32) *Linear {
	return NewLinearInit(b, in, out, bias, Normal(std), Init{Kind: InitZeros})
}

// NewLinearInit builds a Linear layer with the given initialisation of its weight and bias.
func NewLinearInit(b *Builder, in, out int, bias bool, weight, biasInit Init) *Linear {
	l := &Linear{}
	l.Weight, l.Compact = b.Matrix("weight", LayerLinear, weight, out, in)
	if bias {
		l.Bias = b.Param("bias", LayerLinear, biasInit, out)
	}
	return l
}

// Forward maps x (..., in) to (..., out).
func (l *Linear) Forward(x *autograd.Var) *autograd.Var {
	if l.LoRA != nil {
		base := *l
		base.LoRA = nil
		return autograd.Add(base.Forward(x), l.LoRA.Forward(x))
	}
	if l.Compact != nil {
		y := MulCompactT(x, l.Compact)
		if l.Bias != nil {
			y = autograd.Add(y, l.Bias)
		}
		return y
	}
	if l.Bias != nil {
		return autograd.Affine(x, l.Weight, l.Bias)
	}
	return autograd.MatMulT(x, l.Weight)
}

// Embedding maps integer ids to rows of a (V, C) table.
type Embedding struct {
	Weight *autograd.Var // (V, C); nil when Compact holds the table
	// Compact holds the table instead of Weight in an inference view with compact weights
	// (NewCompactBuilder); nil otherwise. Looked-up rows are converted to float32.
	Compact CompactWeight
}

// NewEmbedding builds an embedding table whose fresh values are drawn from N(0, std²).
func NewEmbedding(b *Builder, vocab, dim int, std float32) *Embedding {
	e := &Embedding{}
	e.Weight, e.Compact = b.Matrix("weight", LayerEmbedding, Normal(std), vocab, dim)
	return e
}

// Forward looks up ids (B·T of them, row-major) and returns (B, T, C).
func (e *Embedding) Forward(ids []int, b, t int) *autograd.Var {
	if len(ids) != b*t {
		panic(fmt.Sprintf("nn.Embedding: %d ids for shape (%d, %d)", len(ids), b, t))
	}
	if e.Compact != nil {
		v, c := e.Compact.Dims()
		for i, id := range ids {
			if id < 0 || id >= v {
				panic(fmt.Sprintf("nn.Embedding: id %d at %d outside a table of %d rows", id, i, v))
			}
		}
		return autograd.Const(e.Compact.Rows(ids).Reshape(b, t, c))
	}
	return autograd.Reshape(autograd.Embedding(e.Weight, ids), b, t, e.Weight.Value.Dim(1))
}

// LayerNorm normalises over the last axis with a learned scale and (optional) shift.
type LayerNorm struct {
	Weight *autograd.Var // (C), initialised to 1
	Bias   *autograd.Var // (C), initialised to 0; nil without bias
	Eps    float32
}

// NewLayerNorm builds a LayerNorm over dim channels: scale 1, shift 0 when fresh.
func NewLayerNorm(b *Builder, dim int, bias bool, eps float32) *LayerNorm {
	ln := &LayerNorm{Weight: b.Param("weight", LayerNormKind, Init{Kind: InitOnes}, dim), Eps: eps}
	if bias {
		ln.Bias = b.Param("bias", LayerNormKind, Init{Kind: InitZeros}, dim)
	}
	return ln
}

// Forward normalises x (..., C).
func (ln *LayerNorm) Forward(x *autograd.Var) *autograd.Var {
	return autograd.LayerNorm(x, ln.Weight, ln.Bias, ln.Eps)
}

// GELU is the Gaussian error linear unit: the exact erf form, or with Tanh set, GPT-2's tanh
// approximation ("gelu_new").
type GELU struct{ Tanh bool }

// Forward applies GELU element-wise.
func (g GELU) Forward(x *autograd.Var) *autograd.Var {
	if g.Tanh {
		return autograd.GELUTanh(x)
	}
	return autograd.GELU(x)
}

// Dropout zeroes activations with probability P while the shared Mode is training.
type Dropout struct {
	P    float32
	Mode *Mode
}

// Forward applies dropout (the identity in evaluation mode or when P is 0).
func (d Dropout) Forward(x *autograd.Var) *autograd.Var {
	if d.P == 0 || d.Mode == nil || !d.Mode.Training {
		return x
	}
	return autograd.Dropout(x, d.P, d.Mode.RNG)
}
