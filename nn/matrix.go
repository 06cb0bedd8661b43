package nn

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
)

// Matrix is a weight matrix W (N, K) as a layer uses it: multiplied (x·Wᵀ + b, a Linear, an
// output head) or read by rows (an Embedding). The layers do not know how it is held. A model
// that trains holds Dense matrices, float32 parameters with gradients; an inference view may hold
// them in fewer bits (bfloat16, int8: package model's Compact), which is what makes decoding, a
// stream of every weight per token, faster. Such a view is built like any other, from the
// model's one description, by a builder with a CompactSource (NewCompactBuilder). Methods must
// be safe to call from several goroutines at once.
type Matrix interface {
	// Dims returns the matrix's shape (N, K).
	Dims() (n, k int)
	// MulT returns x·Wᵀ + bias for x (..., K): (..., N). bias (N) may be nil.
	MulT(x, bias *autograd.Var) *autograd.Var
	// Rows returns the rows ids of W, which are in [0, N): (len(ids), K).
	Rows(ids []int) *autograd.Var
	// Narrow returns the rows [lo, lo+n) of W: a fused projection's queries, or keys and values.
	Narrow(lo, n int) Matrix
}

// Dense is a float32 weight matrix: a parameter (or a frozen view's constant), the Matrix of
// every model that trains.
type Dense struct{ W *autograd.Var }

// Dims returns W's shape.
func (d Dense) Dims() (n, k int) { return d.W.Value.Dim(0), d.W.Value.Dim(1) }

// MulT returns x·Wᵀ + bias; with a bias, as one op that writes the bias and adds the product
// onto it.
func (d Dense) MulT(x, bias *autograd.Var) *autograd.Var {
	if bias != nil {
		return autograd.Affine(x, d.W, bias)
	}
	return autograd.MatMulT(x, d.W)
}

// Rows looks up rows of W (its gradient flows back into those rows).
func (d Dense) Rows(ids []int) *autograd.Var { return autograd.Embedding(d.W, ids) }

// Narrow returns a view of rows [lo, lo+n) of W.
func (d Dense) Narrow(lo, n int) Matrix { return Dense{autograd.Narrow(d.W, 0, lo, n)} }

// A CompactSource supplies a weight matrix (a Linear's or an Embedding's weight) in a compact
// form, or nil to have the builder's Source supply it as a float32 parameter.
type CompactSource func(s Spec) (Matrix, error)

// NewCompactBuilder returns a builder for an inference view (evaluation mode, as NewBuilder(src,
// nil)) whose weight matrices come from compact where it supplies them, and every other
// parameter from src. The compact matrices are not parameters: Params leaves them out, Specs
// lists them.
func NewCompactBuilder(src Source, compact CompactSource) *Builder {
	b := NewBuilder(src, nil)
	b.compact = compact
	return b
}

// Matrix asks for a weight matrix (rows, cols) that a layer may hold in compact form: from the
// builder's CompactSource when it supplies one (the Var is then nil), otherwise as Param (the
// Matrix is then nil).
func (b *Builder) Matrix(name, layer string, init Init, rows, cols int) (*autograd.Var, Matrix) {
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
