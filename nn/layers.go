package nn

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
)

// Linear is y = x·Wᵀ + b with W (out, in) and b (out), or no b when built without bias.
type Linear struct {
	Weight *autograd.Var // W (out, in); nil when Compact holds it
	Bias   *autograd.Var // (out), or nil
	// Compact holds W instead of Weight in an inference view with compact weights
	// (NewCompactBuilder); nil otherwise.
	Compact Matrix
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

// Forward maps x (..., in) to (..., out): x·Wᵀ + b, plus the adapter's term with LoRA.
func (l *Linear) Forward(x *autograd.Var) *autograd.Var {
	y := l.W().MulT(x, l.Bias)
	if l.LoRA != nil {
		y = autograd.Add(y, l.LoRA.Forward(x))
	}
	return y
}

// W returns the weight matrix as Forward uses it: Weight, or the compact matrix held instead.
func (l *Linear) W() Matrix { return matrix(l.Weight, l.Compact) }

// Embedding maps integer ids to rows of a (V, C) table.
type Embedding struct {
	Weight *autograd.Var // (V, C); nil when Compact holds the table
	// Compact holds the table instead of Weight in an inference view with compact weights
	// (NewCompactBuilder); nil otherwise.
	Compact Matrix
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
	_, c := e.W().Dims()
	return autograd.Reshape(e.W().Rows(ids), b, t, c) // Rows panics at an id outside the table
}

// W returns the table as Forward uses it: Weight, or the compact matrix held instead.
func (e *Embedding) W() Matrix { return matrix(e.Weight, e.Compact) }

// matrix returns compact if a view holds one, else the float32 parameter w.
func matrix(w *autograd.Var, compact Matrix) Matrix {
	if compact != nil {
		return compact
	}
	return Dense{w}
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
