package nn

import (
	"errors"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainCompact is a CompactWeight that holds float32 and computes with the tensor kernels, so
// that a layer using it must compute exactly what the same layer with a float32 Weight does.
type plainCompact struct{ w *tensor.Tensor }

func (p plainCompact) Dims() (int, int)                     { return p.w.Dim(0), p.w.Dim(1) }
func (p plainCompact) MulT(x *tensor.Tensor) *tensor.Tensor { return tensor.MatMulT(x, p.w) }
func (p plainCompact) Rows(ids []int) *tensor.Tensor        { return tensor.Gather(p.w, ids) }
func (p plainCompact) Bytes() int                           { return 4 * p.w.Size() }

func TestCompactBuilderBuildsTheSameLayers(t *testing.T) {
	rng := newRNG(3)
	plain := NewBuilder(Random(rng), nil)
	cfg := BlockConfig{NEmbd: 32, NHead: 4, NLayer: 2, Bias: true, LayerNormEps: 1e-5, GELUTanh: true}
	block := NewBlock(plain.Sub("h.0"), cfg)
	emb := NewEmbedding(plain.Sub("wte"), 11, 32, 0.02)
	require.NoError(t, plain.Err())

	asked := map[string]bool{}
	cb := NewCompactBuilder(Shared(plain.Params(), true), func(s Spec) (CompactWeight, error) {
		if s.Layer != LayerLinear && s.Layer != LayerEmbedding {
			return nil, nil
		}
		asked[s.Name] = true
		for _, p := range plain.Params() {
			if p.Name() == s.Name {
				return plainCompact{p.Value}, nil
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
	assert.Panics(t, func() { cemb.Forward([]int{11}, 1, 1) }, "an id outside the table")
}

func TestCompactBuilderErrors(t *testing.T) {
	src := Random(newRNG(4))
	b := NewCompactBuilder(src, func(s Spec) (CompactWeight, error) {
		return plainCompact{tensor.Zeros(2, 2)}, nil // the wrong shape
	})
	NewLinear(b.Sub("fc"), 3, 4, true, 0.02)
	assert.EqualError(t, b.Err(), "compact parameter fc.weight has shape [2 2], want [4 3]")
	b = NewCompactBuilder(src, func(s Spec) (CompactWeight, error) { return nil, errors.New("no way") })
	l := NewLinear(b.Sub("fc"), 3, 4, true, 0.02)
	assert.EqualError(t, b.Err(), "no way")
	assert.Nil(t, l.Weight)
}

func TestMulCompactT(t *testing.T) {
	w := plainCompact{tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)} // (N=2, K=3)
	x := autograd.Const(tensor.FromSlice([]float32{1, 0, -1, 2, 1, 0, 0, 0, 1, 1, 1, 1}, 2, 2, 3))
	y := MulCompactT(x, w)
	require.Equal(t, []int{2, 2, 2}, y.Shape())
	assert.Equal(t, []float32{-2, -2, 4, 13, 3, 6, 6, 15}, y.Value.Values())
	assert.False(t, y.RequiresGrad())
	assert.PanicsWithValue(t, "nn.MulCompactT: input of shape [1 2] times a (2, 3) weight transposed", func() {
		MulCompactT(autograd.Const(tensor.Zeros(1, 2)), w)
	})
	assert.Panics(t, func() { MulCompactT(autograd.Param(tensor.Zeros(1, 3)), w) }, "no gradient through a compact weight")
}
