package nn

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func TestLinearComputesXWtPlusB(t *testing.T) {
	l := &Linear{
		Weight: autograd.Param(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)), // (out=2, in=3)
		Bias:   autograd.Param(tensor.FromSlice([]float32{10, 20}, 2)),
	}
	x := autograd.Const(tensor.FromSlice([]float32{1, 0, -1, 2, 1, 0}, 1, 2, 3)) // (B=1, T=2, 3)
	y := l.Forward(x)
	require.Equal(t, []int{1, 2, 2}, y.Shape())
	// row 1: [1 0 -1]·[1 2 3] = -2, ·[4 5 6] = -2; row 2: [2 1 0]·... = 4, 13
	assert.Equal(t, []float32{8, 18, 14, 33}, y.Value.Values())
}

func TestBuilderNamesParametersByPrefix(t *testing.T) {
	b := NewBuilder(Random(newRNG(1)), nil)
	l := NewLinear(b.Sub("mlp").Sub("c_fc"), 3, 2, true, 0.02)
	require.NoError(t, b.Err())
	assert.Equal(t, "mlp.c_fc.weight", l.Weight.Name())
	assert.Equal(t, "mlp.c_fc.bias", l.Bias.Name())
	assert.Equal(t, []*autograd.Var{l.Weight, l.Bias}, b.Params())
	specs := b.Specs()
	require.Len(t, specs, 2)
	assert.Equal(t, Spec{Name: "mlp.c_fc.weight", Shape: []int{2, 3}, Init: Normal(0.02), Layer: LayerLinear}, specs[0])
}

func TestBuilderKeepsTheSourcesFirstError(t *testing.T) {
	calls := 0
	b := NewBuilder(func(s Spec) (*autograd.Var, error) {
		calls++
		if s.Name == "x.bias" {
			return nil, errors.New("no bias here")
		}
		return autograd.NamedParam(s.Name, tensor.Zeros(s.Shape...)), nil
	}, nil)
	NewLinear(b.Sub("x"), 3, 2, true, 0.02)
	NewLinear(b.Sub("y"), 3, 2, true, 0.02)
	assert.EqualError(t, b.Err(), "no bias here")
	assert.Equal(t, 2, calls, "nothing is asked for after an error")
	// a source handing out the wrong shape is an error too
	b = NewBuilder(func(s Spec) (*autograd.Var, error) { return autograd.NamedParam(s.Name, tensor.Zeros(1)), nil }, nil)
	NewLayerNorm(b.Sub("ln"), 4, false, 1e-5)
	assert.ErrorContains(t, b.Err(), "ln.weight has shape [1], want [4]")
}

func TestBlockInitialisation(t *testing.T) {
	const c, nLayer = 64, 8
	b := NewBlock(NewBuilder(Random(newRNG(1)), nil), BlockConfig{NEmbd: c, NHead: 4, NLayer: nLayer, Bias: true, LayerNormEps: 1e-5})
	std := func(v *autograd.Var) float64 {
		var s float64
		for _, x := range v.Value.Values() {
			s += float64(x) * float64(x)
		}
		return s / float64(v.Value.Size())
	}
	assert.InDelta(t, 0.02*0.02, std(b.Attn.QKV.Weight), 0.02*0.02*0.1)
	// residual projections: 0.02/√(2·nLayer)
	want := 0.02 * 0.02 / (2 * nLayer)
	assert.InDelta(t, want, std(b.Attn.Out.Weight), want*0.15)
	assert.InDelta(t, want, std(b.FF.(*MLP).Down.Weight), want*0.15)
	assert.Equal(t, tensor.Zeros(3*c).Values(), b.Attn.QKV.Bias.Value.Values())
	assert.Equal(t, tensor.Ones(c).Values(), b.AttnNorm.(*LayerNorm).Weight.Value.Values())
	assert.Equal(t, []int{4 * c, c}, b.FF.(*MLP).Up.Weight.Shape())
	assert.Panics(t, func() { NewBlock(NewBuilder(Random(newRNG(1)), nil), BlockConfig{NEmbd: 10, NHead: 4}) })
}

// randomBlock returns a block with larger-than-GPT-2 weights, so that attention is far from
// uniform and a leak from the future would show.
func randomBlock(c, nh int) (*Block, []*autograd.Var) {
	rng := newRNG(2)
	b := NewBuilder(func(s Spec) (*autograd.Var, error) {
		return autograd.NamedParam(s.Name, tensor.RandNormal(rng, 0, 0.5, s.Shape...)), nil
	}, nil)
	return NewBlock(b, blockConfig(c, nh)), b.Params()
}

func blockConfig(c, nh int) BlockConfig {
	return BlockConfig{NEmbd: c, NHead: nh, NLayer: 1, Bias: true, LayerNormEps: 1e-5}
}

// frozenBlock builds a view of a block's parameters as constants.
func frozenBlock(c, nh int, params []*autograd.Var) *Block {
	b := NewBuilder(Shared(params, true), nil)
	blk := NewBlock(b, blockConfig(c, nh))
	if b.Err() != nil {
		panic(b.Err())
	}
	return blk
}

func TestAttentionIsCausal(t *testing.T) {
	const c, nh, tt = 16, 4, 7
	blk, _ := randomBlock(c, nh)
	x := tensor.RandNormal(newRNG(3), 0, 1, 1, tt, c)
	base := blk.Forward(autograd.Const(x), BlockInput{}).Value
	// changing the last position must leave every earlier output unchanged
	x2 := x.Clone()
	x2.Index(1, tt-1).Fill(5)
	changed := blk.Forward(autograd.Const(x2), BlockInput{}).Value
	for p := range tt - 1 {
		assert.Equal(t, base.Index(1, p).Values(), changed.Index(1, p).Values(), "position %d saw the future", p)
	}
	assert.NotEqual(t, base.Index(1, tt-1).Values(), changed.Index(1, tt-1).Values())
}

func TestKVCacheMatchesFullForward(t *testing.T) {
	const c, nh, tt = 16, 4, 6
	blk, params := randomBlock(c, nh)
	x := tensor.RandNormal(newRNG(4), 0, 1, 2, tt, c)
	full := blk.Forward(autograd.Const(x), BlockInput{}).Value
	// a KV cache is for inference: on a block whose parameters require gradients it panics
	assert.Panics(t, func() { blk.Forward(autograd.Const(x), BlockInput{Cache: &KVCache{}}) })
	fz := frozenBlock(c, nh, params)
	cache := &KVCache{}
	// a prefix of 4 positions, then one at a time
	first := fz.Forward(autograd.Const(x.Narrow(1, 0, 4).Contiguous()), BlockInput{Cache: cache}).Value
	assert.Equal(t, 4, cache.Len())
	assertClose(t, full.Narrow(1, 0, 4).Values(), first.Values())
	for p := 4; p < tt; p++ {
		step := fz.Forward(autograd.Const(x.Narrow(1, p, 1).Contiguous()), BlockInput{Cache: cache}).Value
		assertClose(t, full.Narrow(1, p, 1).Values(), step.Values())
	}
	assert.Equal(t, tt, cache.Len())
}

func assertClose(t *testing.T, want, got []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for i := range want {
		// the cached path sums the same terms in another grouping: float32 rounding only
		assert.InDelta(t, want[i], got[i], 1e-5, "element %d", i)
	}
}

func TestDropoutFollowsMode(t *testing.T) {
	mode := &Mode{Training: true, RNG: newRNG(5)}
	d := Dropout{P: 0.5, Mode: mode}
	x := autograd.Const(tensor.Ones(1000))
	y := d.Forward(x).Value.Values()
	zeros := 0
	for _, v := range y {
		if v == 0 {
			zeros++
		}
	}
	assert.InDelta(t, 500, zeros, 80)
	mode.Training = false
	assert.Same(t, x, d.Forward(x))
}

func TestBlockParamNames(t *testing.T) {
	b := NewBuilder(Random(newRNG(1)), nil)
	NewBlock(b.Subf("h.%d", 3), blockConfig(8, 2))
	var names []string
	for _, p := range b.Params() {
		names = append(names, p.Name())
	}
	assert.Equal(t, []string{
		"h.3.ln_1.weight", "h.3.ln_1.bias",
		"h.3.attn.c_attn.weight", "h.3.attn.c_attn.bias", "h.3.attn.c_proj.weight", "h.3.attn.c_proj.bias",
		"h.3.ln_2.weight", "h.3.ln_2.bias",
		"h.3.mlp.c_fc.weight", "h.3.mlp.c_fc.bias", "h.3.mlp.c_proj.weight", "h.3.mlp.c_proj.bias",
	}, names)
	var specNames []string
	for _, s := range Specs(func(b *Builder) { NewBlock(b.Subf("h.%d", 3), blockConfig(8, 2)) }) {
		specNames = append(specNames, s.Name)
	}
	assert.Equal(t, names, specNames, "Specs lists what a build asks for, in the same order")
}

func TestFrozenBlockComputesTheSameWithoutAGraph(t *testing.T) {
	blk, params := randomBlock(16, 4)
	x := autograd.Const(tensor.RandNormal(newRNG(6), 0, 1, 2, 5, 16))
	want := blk.Forward(x, BlockInput{})
	require.True(t, want.RequiresGrad())
	fz := frozenBlock(16, 4, params)
	got := fz.Forward(x, BlockInput{})
	assert.False(t, got.RequiresGrad(), "a frozen block records no graph")
	assert.Equal(t, want.Value.Values(), got.Value.Values())
	// it shares the values: a change to the original shows through
	blk.FFNorm.(*LayerNorm).Bias.Value.Fill(1)
	assert.NotEqual(t, got.Value.Values(), fz.Forward(x, BlockInput{}).Value.Values())
}
