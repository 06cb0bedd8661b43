package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Linear is y = x·Wᵀ + b with W (out, in) and b (out), or no b when built without bias.
type Linear struct {
	Weight *autograd.Var // (out, in)
	Bias   *autograd.Var // (out), or nil
}

// NewLinear returns a Linear layer with weights drawn from N(0, std²) and zero bias.
func NewLinear(rng *rand.Rand, in, out int, bias bool, std float32) *Linear {
	l := &Linear{Weight: autograd.Param(tensor.RandNormal(rng, 0, std, out, in))}
	if bias {
		l.Bias = autograd.Param(tensor.Zeros(out))
	}
	return l
}

// Forward maps x (..., in) to (..., out).
func (l *Linear) Forward(x *autograd.Var) *autograd.Var {
	y := autograd.MatMulT(x, l.Weight)
	if l.Bias != nil {
		y = autograd.Add(y, l.Bias)
	}
	return y
}

// Params lists weight and bias.
func (l *Linear) Params(prefix string, dst []Param) []Param {
	dst = append(dst, Param{prefix + "weight", l.Weight})
	if l.Bias != nil {
		dst = append(dst, Param{prefix + "bias", l.Bias})
	}
	return dst
}

// Embedding maps integer ids to rows of a (V, C) table.
type Embedding struct {
	Weight *autograd.Var // (V, C)
}

// NewEmbedding returns an embedding table drawn from N(0, std²).
func NewEmbedding(rng *rand.Rand, vocab, dim int, std float32) *Embedding {
	return &Embedding{Weight: autograd.Param(tensor.RandNormal(rng, 0, std, vocab, dim))}
}

// Forward looks up ids (B·T of them, row-major) and returns (B, T, C).
func (e *Embedding) Forward(ids []int, b, t int) *autograd.Var {
	if len(ids) != b*t {
		panic(fmt.Sprintf("nn.Embedding: %d ids for shape (%d, %d)", len(ids), b, t))
	}
	return autograd.Reshape(autograd.Embedding(e.Weight, ids), b, t, e.Weight.Value.Dim(1))
}

// Params lists the table.
func (e *Embedding) Params(prefix string, dst []Param) []Param {
	return append(dst, Param{prefix + "weight", e.Weight})
}

// LayerNorm normalises over the last axis with a learned scale and (optional) shift.
type LayerNorm struct {
	Weight *autograd.Var // (C), initialised to 1
	Bias   *autograd.Var // (C), initialised to 0; nil without bias
	Eps    float32
}

// NewLayerNorm returns a LayerNorm over dim channels.
func NewLayerNorm(dim int, bias bool, eps float32) *LayerNorm {
	ln := &LayerNorm{Weight: autograd.Param(tensor.Ones(dim)), Eps: eps}
	if bias {
		ln.Bias = autograd.Param(tensor.Zeros(dim))
	}
	return ln
}

// Forward normalises x (..., C).
func (ln *LayerNorm) Forward(x *autograd.Var) *autograd.Var {
	return autograd.LayerNorm(x, ln.Weight, ln.Bias, ln.Eps)
}

// Params lists weight and bias.
func (ln *LayerNorm) Params(prefix string, dst []Param) []Param {
	dst = append(dst, Param{prefix + "weight", ln.Weight})
	if ln.Bias != nil {
		dst = append(dst, Param{prefix + "bias", ln.Bias})
	}
	return dst
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
