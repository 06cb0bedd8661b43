package nn

import (
	"errors"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainCompact is a Matrix that holds float32 as a constant and counts its uses, so that a
// layer using it must compute exactly what the same layer with a float32 Weight does.
type plainCompact struct {
	w    *tensor.Tensor
	uses *int
}

func (p plainCompact) Dims() (int, int) { return p.w.Dim(0), p.w.Dim(1) }
func (p plainCompact) MulT(x, bias *autograd.Var) *autograd.Var {
	*p.uses++
	return Dense{autograd.Const(p.w)}.MulT(x, bias)
}
func (p plainCompact) Rows(ids []int) *autograd.Var {
	*p.uses++
	return autograd.Const(tensor.Gather(p.w, ids))
}
func (p plainCompact) Narrow(lo, n int) Matrix { return plainCompact{p.w.Narrow(0, lo, n), p.uses} }

func TestCompactBuilderBuildsTheSameLayers(t *testing.T) {
	rng := newRNG(3)
	plain := NewBuilder(Random(rng), nil)
	cfg := BlockConfig{NEmbd: 32, NHead: 4, NLayer: 2, Bias: true, LayerNormEps: 1e-5, GELUTanh: true}
	block := NewBlock(plain.Sub("h.0"), cfg)
	emb := NewEmbedding(plain.Sub("wte"), 11, 32, 0.02)
	require.NoError(t, plain.Err())

	asked, uses := map[string]bool{}, 0
	cb := NewCompactBuilder(Shared(plain.Params(), true), func(s Spec) (Matrix, error) {
		if s.Layer != LayerLinear && s.Layer != LayerEmbedding {
			return nil, nil
		}
		asked[s.Name] = true
		for _, p := range plain.Params() {
			if p.Name() == s.Name {
				return plainCompact{p.Value, &uses}, nil
			}
		}
		return nil, errors.New("missing " + s.Name)
	})
	cblock := NewBlock(cb.Sub("h.0"), cfg)
	cemb := NewEmbedding(cb.Sub("wte"), 11, 32, 0.02)
	require.NoError(t, cb.Err())
	assert.Len(t, asked, 5, "four Linear weights and the table")
	assert.Nil(t, cblock.Attn.QKV.Weight)
	assert.NotNil(t, cblock.Attn.QKV.Compact)
	assert.NotNil(t, cblock.Attn.QKV.Bias, "biases stay float32")
	assert.Nil(t, cemb.Weight)
	assert.Len(t, cb.Params(), len(plain.Params())-5, "compact weights are not parameters")
	assert.Equal(t, plain.Specs(), cb.Specs(), "but they are specs")
	for _, p := range cb.Params() {
		assert.False(t, p.RequiresGrad(), p.Name())
	}

	ids := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	want := block.Forward(emb.Forward(ids, 2, 5), BlockInput{}) // (2, 5, 32)
	got := cblock.Forward(cemb.Forward(ids, 2, 5), BlockInput{})
	require.Equal(t, want.Shape(), got.Shape())
	assert.Equal(t, want.Value.Values(), got.Value.Values(), "a compact weight with float32 values computes the same bits")
	assert.Equal(t, 5, uses, "each compact matrix computed once")
	assert.Panics(t, func() { cemb.Forward([]int{11}, 1, 1) }, "an id outside the table")
}

func TestCompactBuilderErrors(t *testing.T) {
	src := Random(newRNG(4))
	b := NewCompactBuilder(src, func(s Spec) (Matrix, error) {
		return plainCompact{tensor.Zeros(2, 2), nil}, nil // the wrong shape
	})
	NewLinear(b.Sub("fc"), 3, 4, true, 0.02)
	assert.EqualError(t, b.Err(), "compact parameter fc.weight has shape [2 2], want [4 3]")
	b = NewCompactBuilder(src, func(s Spec) (Matrix, error) { return nil, errors.New("no way") })
	l := NewLinear(b.Sub("fc"), 3, 4, true, 0.02)
	assert.EqualError(t, b.Err(), "no way")
	assert.Nil(t, l.Weight)
}

// TestDenseMatrix checks Dense against the plain sums: x·Wᵀ + b, rows, and a narrowed W.
func TestDenseMatrix(t *testing.T) {
	w := Dense{autograd.Const(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3))} // (N=3, K=3)
	x := autograd.Const(tensor.FromSlice([]float32{1, 0, -1, 2, 1, 0}, 1, 2, 3))             // (1, 2, 3)
	b := autograd.Const(tensor.FromSlice([]float32{10, 20, 30}, 3))
	assert.Equal(t, []float32{8, 18, 28, 14, 33, 52}, w.MulT(x, b).Value.Values()) // e.g. [1 0 -1]·[1 2 3] + 10
	assert.Equal(t, []float32{-2, -2, -2, 4, 13, 22}, w.MulT(x, nil).Value.Values())
	assert.Equal(t, []float32{13, 22}, w.Narrow(1, 2).MulT(x, nil).Value.Values()[2:])
	assert.Equal(t, []float32{7, 8, 9, 1, 2, 3}, w.Rows([]int{2, 0}).Value.Values())
	n, k := w.Narrow(1, 2).Dims()
	assert.Equal(t, [2]int{2, 3}, [2]int{n, k})
}
