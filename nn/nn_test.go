package nn

import (
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
	names := []string{}
	for _, p := range l.Params("c_fc.", nil) {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"c_fc.weight", "c_fc.bias"}, names)
}

func TestBlockInitialisation(t *testing.T) {
	const c, nLayer = 64, 8
	b := NewBlock(newRNG(1), BlockConfig{NEmbd: c, NHead: 4, NLayer: nLayer, Bias: true, LayerNormEps: 1e-5}, &Mode{})
	std := func(v *autograd.Var) float64 {
		var s float64
		for _, x := range v.Value.Values() {
			s += float64(x) * float64(x)
		}
		return s / float64(v.Value.Size())
	}
	assert.InDelta(t, 0.02*0.02, std(b.Attn.CAttn.Weight), 0.02*0.02*0.1)
	// residual projections: 0.02/√(2·nLayer)
	want := 0.02 * 0.02 / (2 * nLayer)
	assert.InDelta(t, want, std(b.Attn.CProj.Weight), want*0.15)
	assert.InDelta(t, want, std(b.MLP.CProj.Weight), want*0.15)
	assert.Equal(t, tensor.Zeros(3*c).Values(), b.Attn.CAttn.Bias.Value.Values())
	assert.Equal(t, tensor.Ones(c).Values(), b.Ln1.Weight.Value.Values())
	assert.Equal(t, []int{4 * c, c}, b.MLP.CFc.Weight.Shape())
	assert.Panics(t, func() { NewBlock(newRNG(1), BlockConfig{NEmbd: 10, NHead: 4}, &Mode{}) })
}

// randomBlock returns a block with larger-than-GPT-2 weights, so that attention is far from
// uniform and a leak from the future would show.
func randomBlock(c, nh int) *Block {
	rng := newRNG(2)
	b := NewBlock(rng, BlockConfig{NEmbd: c, NHead: nh, NLayer: 1, Bias: true, LayerNormEps: 1e-5}, &Mode{})
	for _, p := range b.Params("", nil) {
		p.Var.Value = tensor.RandNormal(rng, 0, 0.5, p.Var.Shape()...)
	}
	return b
}

func TestAttentionIsCausal(t *testing.T) {
	const c, nh, tt = 16, 4, 7
	blk := randomBlock(c, nh)
	x := tensor.RandNormal(newRNG(3), 0, 1, 1, tt, c)
	base := blk.Forward(autograd.Const(x), nil).Value
	// changing the last position must leave every earlier output unchanged
	x2 := x.Clone()
	x2.Index(1, tt-1).Fill(5)
	changed := blk.Forward(autograd.Const(x2), nil).Value
	for p := range tt - 1 {
		assert.Equal(t, base.Index(1, p).Values(), changed.Index(1, p).Values(), "position %d saw the future", p)
	}
	assert.NotEqual(t, base.Index(1, tt-1).Values(), changed.Index(1, tt-1).Values())
}

func TestKVCacheMatchesFullForward(t *testing.T) {
	const c, nh, tt = 16, 4, 6
	blk := randomBlock(c, nh)
	x := tensor.RandNormal(newRNG(4), 0, 1, 2, tt, c)
	full := blk.Forward(autograd.Const(x), nil).Value
	frozen := blk.Frozen(&Mode{})
	cache := &KVCache{}
	// a prefix of 4 positions, then one at a time
	first := frozen.Forward(autograd.Const(x.Narrow(1, 0, 4).Contiguous()), cache).Value
	assert.Equal(t, 4, cache.Len())
	assertClose(t, full.Narrow(1, 0, 4).Values(), first.Values())
	for p := 4; p < tt; p++ {
		step := frozen.Forward(autograd.Const(x.Narrow(1, p, 1).Contiguous()), cache).Value
		assertClose(t, full.Narrow(1, p, 1).Values(), step.Values())
	}
	assert.Equal(t, tt, cache.Len())
	assert.PanicsWithValue(t, "nn.KVCache: keys of shape [2 4 1 4] require a gradient, but a KV cache is for inference: run a Frozen copy of the layers",
		func() { blk.Forward(autograd.Const(x.Narrow(1, 0, 1).Contiguous()), &KVCache{}) })
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
	b := randomBlock(8, 2)
	var names []string
	for _, p := range b.Params("h.3.", nil) {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{
		"h.3.ln_1.weight", "h.3.ln_1.bias",
		"h.3.attn.c_attn.weight", "h.3.attn.c_attn.bias", "h.3.attn.c_proj.weight", "h.3.attn.c_proj.bias",
		"h.3.ln_2.weight", "h.3.ln_2.bias",
		"h.3.mlp.c_fc.weight", "h.3.mlp.c_fc.bias", "h.3.mlp.c_proj.weight", "h.3.mlp.c_proj.bias",
	}, names)
}

func TestFrozenBlockComputesTheSameWithoutAGraph(t *testing.T) {
	blk := randomBlock(16, 4)
	x := autograd.Const(tensor.RandNormal(newRNG(6), 0, 1, 2, 5, 16))
	want := blk.Forward(x, nil)
	require.True(t, want.RequiresGrad())
	fz := blk.Frozen(&Mode{})
	got := fz.Forward(x, nil)
	assert.False(t, got.RequiresGrad(), "a frozen block records no graph")
	assert.Equal(t, want.Value.Values(), got.Value.Values())
	// it shares the values: a change to the original shows through
	blk.Ln2.Bias.Value.Fill(1)
	assert.NotEqual(t, got.Value.Values(), fz.Forward(x, nil).Value.Values())
	assert.Equal(t, len(blk.Params("", nil)), len(fz.Params("", nil)))
}
