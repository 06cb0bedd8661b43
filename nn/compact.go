package nn

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Compact weights are for inference: an inference view of a model may hold its weight matrices
// in fewer bits than float32 (bfloat16, int8), which is what makes decoding, a stream of every
// weight per token, faster. A Linear or Embedding whose Compact field is set uses it in place of
// its Weight, which is then nil. Such a view is built like any other, from the model's one
// description, by a builder that has a CompactSource (NewCompactBuilder); package model's
// GPT.Compact does so. A compact weight has no gradient.

// CompactWeight is a frozen weight matrix (N, K), row-major, held in a compact format. Its
// methods must be safe to call from several goroutines at once.
type CompactWeight interface {
	// Dims returns the matrix's shape (N, K).
	Dims() (n, k int)
	// MulT returns x·Wᵀ for x (M, K), contiguous: (M, N).
	MulT(x *tensor.Tensor) *tensor.Tensor
	// Rows returns rows ids of the matrix in float32: (len(ids), K). The ids are in [0, N).
	Rows(ids []int) *tensor.Tensor
	// Bytes returns the memory the matrix holds (values and scales).
	Bytes() int
}

// A CompactSource supplies a weight matrix (a Linear's or an Embedding's weight) in a compact
// form, or nil to have the builder's Source supply it as usual.
type CompactSource func(s Spec) (CompactWeight, error)

// NewCompactBuilder returns a builder for an inference view (evaluation mode, as NewBuilder(src,
// nil)) whose weight matrices come from compact where it supplies them, and every other
// parameter from src. The compact weights are not parameters: Params leaves them out, Specs
// lists them.
func NewCompactBuilder(src Source, compact CompactSource) *Builder {
	b := NewBuilder(src, nil)
	b.compact = compact
	return b
}

// Matrix asks for a weight matrix (rows, cols) that a layer can use in compact form: from the
// builder's CompactSource when it supplies one (the Var is then nil), otherwise as Param.
func (b *Builder) Matrix(name, layer string, init Init, rows, cols int) (*autograd.Var, CompactWeight) {
	if b.compact == nil {
		return b.Param(name, layer, init, rows, cols), nil
	}
	st := b.shared
	s := b.spec(name, layer, init, rows, cols)
	if st.err != nil {
		return nil, nil
	}
	w, err := b.compact(s)
	if err == nil && w != nil {
		if n, k := w.Dims(); n != rows || k != cols {
			err = fmt.Errorf("compact parameter %s has shape [%d %d], want [%d %d]", s.Name, n, k, rows, cols)
		}
	}
	if err != nil {
		st.err = err
		return nil, nil
	}
	if w != nil {
		return nil, w
	}
	return b.value(s), nil
}

// MulCompactT returns x·Wᵀ for x (..., K) and a compact W (N, K): (..., N), a constant. x must
// not require a gradient: a compact weight is for inference.
func MulCompactT(x *autograd.Var, w CompactWeight) *autograd.Var {
	n, k := w.Dims()
	shape := x.Shape()
	if len(shape) == 0 || shape[len(shape)-1] != k {
		panic(fmt.Sprintf("nn.MulCompactT: input of shape %v times a (%d, %d) weight transposed", shape, n, k))
	}
	if x.RequiresGrad() {
		panic(fmt.Sprintf("nn.MulCompactT: input of shape %v requires a gradient, but a compact weight is for inference: run a frozen view", shape))
	}
	out := append([]int(nil), shape...)
	out[len(out)-1] = n
	y := w.MulT(x.Value.Contiguous().Reshape(-1, k)) // (M, N)
	return autograd.Const(y.Reshape(out...))
}
