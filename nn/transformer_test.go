package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// randomSource fills every parameter with N(0, 0.5²) (LayerNorm scales around 1), so that no
// weight is trivially 0 or 1 and every path carries signal.
func randomSource(seed uint64) Source {
	rng := newRNG(seed)
	return func(s Spec) (*autograd.Var, error) {
		mean := float32(0)
		if s.Init.Kind == InitOnes {
			mean = 1
		}
		return autograd.NamedParam(s.Name, tensor.RandNormal(rng, mean, 0.5, s.Shape...)), nil
	}
}

func TestTorchAttentionNamesAndInit(t *testing.T) {
	b := NewBuilder(Random(newRNG(1)), nil)
	a := newTorchAttention(b.Sub("self_attn"), LayerConfig{DModel: 8, NHead: 2}, false)
	require.NoError(t, b.Err())
	var names []string
	for _, p := range b.Params() {
		names = append(names, p.Name())
	}
	assert.Equal(t, []string{"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias"}, names)
	assert.Equal(t, []int{24, 8}, a.QKV.Weight.Shape())
	bound := float32(math.Sqrt(6.0 / (24 + 8))) // xavier_uniform_ on (3C, C)
	for _, w := range a.QKV.Weight.Value.Values() {
		require.LessOrEqual(t, float32(math.Abs(float64(w))), bound)
	}
	assert.Equal(t, make([]float32, 24), a.QKV.Bias.Value.Values())
	assert.Panics(t, func() { newTorchAttention(NewBuilder(Random(newRNG(1)), nil), LayerConfig{DModel: 8, NHead: 3}, false) })
}

func assertAllClose(t *testing.T, what string, want, got []float32, tol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for i := range want {
		if d := math.Abs(float64(want[i] - got[i])); !(d <= tol*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

func layerConfigs() []LayerConfig {
	return []LayerConfig{
		{DModel: 8, NHead: 2, DimFF: 16, Activation: "relu"},
		{DModel: 8, NHead: 4, DimFF: 12, Activation: "gelu", NormFirst: true, LayerNormEps: 1e-6},
	}
}

func TestLayerParamNamesFollowPyTorch(t *testing.T) {
	specs := Specs(func(b *Builder) { NewDecoderLayer(b.Sub("layers.0"), layerConfigs()[0]) })
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	var want []string
	for _, attn := range []string{"self_attn", "multihead_attn"} {
		want = append(want, "layers.0."+attn+".in_proj_weight", "layers.0."+attn+".in_proj_bias",
			"layers.0."+attn+".out_proj.weight", "layers.0."+attn+".out_proj.bias")
	}
	for _, n := range []string{"linear1", "linear2", "norm1", "norm2", "norm3"} {
		want = append(want, "layers.0."+n+".weight", "layers.0."+n+".bias")
	}
	assert.Equal(t, want, names)
	specs = Specs(func(b *Builder) { NewEncoderLayer(b, layerConfigs()[0]) })
	assert.Len(t, specs, 12)
	assert.Equal(t, []int{16, 8}, specs[4].Shape, "linear1.weight is (DimFF, C)")
}

// TestEncoderLayerOrders checks post-LN and pre-LN against the formulas written out.
func TestEncoderLayerOrders(t *testing.T) {
	for _, cfg := range layerConfigs() {
		b := NewBuilder(randomSource(3), nil)
		l := NewEncoderLayer(b, cfg)
		require.NoError(t, b.Err())
		x := autograd.Const(tensor.RandNormal(newRNG(4), 0, 1, 2, 5, cfg.DModel))
		pad := []bool{false, false, false, true, true, false, false, false, false, false}
		got := l.Forward(x, BlockInput{Pad: pad}).Value.Values()
		sa := func(h *autograd.Var) *autograd.Var { return l.Attn.Forward(h, AttnInput{KeyPad: pad}) }
		var want *autograd.Var
		if cfg.NormFirst {
			h := autograd.Add(x, sa(l.AttnNorm.Forward(x)))
			want = autograd.Add(h, l.FF.Forward(l.FFNorm.Forward(h)))
		} else {
			h := l.AttnNorm.Forward(autograd.Add(x, sa(x)))
			want = l.FFNorm.Forward(autograd.Add(h, l.FF.Forward(h)))
		}
		assert.Equal(t, want.Value.Values(), got, "norm_first=%v", cfg.NormFirst)
	}
}

// TestDecoderCacheMatchesFullForward decodes one position at a time through the caches and
// compares with the full forward pass, in both orders, with a padded memory.
func TestDecoderCacheMatchesFullForward(t *testing.T) {
	const bsz, tt, ts = 2, 6, 5
	for _, cfg := range layerConfigs() {
		b := NewBuilder(randomSource(6), nil)
		l := NewDecoderLayer(b, cfg)
		require.NoError(t, b.Err())
		rng := newRNG(7)
		x := tensor.RandNormal(rng, 0, 1, bsz, tt, cfg.DModel)
		mem := autograd.Const(tensor.RandNormal(rng, 0, 1, bsz, ts, cfg.DModel))
		memPad := []bool{false, false, false, false, false, false, false, true, true, true}
		full := l.Forward(autograd.Const(x), BlockInput{Mem: mem, MemPad: memPad}).Value
		type caches struct{ self, cross *KVCache }
		newCaches := func(l *Block) caches { return caches{&KVCache{}, l.Cross.CrossCache(mem)} }
		cached := func(l *Block, x *tensor.Tensor, c caches, memPad []bool) *autograd.Var {
			return l.Forward(autograd.Const(x), BlockInput{Cache: c.self, CrossCache: c.cross, MemPad: memPad})
		}

		// caches need constants: a frozen view of the same parameters
		assert.Panics(t, func() { cached(l, x, newCaches(l), memPad) })
		fb := NewBuilder(Shared(b.Params(), true), nil)
		fl := NewDecoderLayer(fb, cfg)
		require.NoError(t, fb.Err())
		cache := newCaches(fl)
		assert.Equal(t, ts, cache.cross.Len())
		first := cached(fl, x.Narrow(1, 0, 2), cache, memPad).Value
		assertAllClose(t, "prefix", full.Narrow(1, 0, 2).Values(), first.Values(), 1e-5)
		for p := 2; p < tt; p++ {
			step := cached(fl, x.Narrow(1, p, 1), cache, memPad).Value
			assertAllClose(t, fmt.Sprintf("position %d", p), full.Narrow(1, p, 1).Values(), step.Values(), 1e-5)
		}
		assert.Equal(t, tt, cache.self.Len())

		// reordering rows (beam search): row 0 takes row 1's cache, then one more step
		cache.self.Reorder([]int{1, 1})
		cache.cross.Reorder([]int{1, 1})
		next := tensor.RandNormal(rng, 0, 1, 1, 1, cfg.DModel)
		both := cached(fl, tensor.Concat(0, next, next), cache, []bool{false, false, true, true, true, false, false, true, true, true}).Value
		assertAllClose(t, "reordered rows agree", both.Index(0, 1).Values(), both.Index(0, 0).Values(), 0)
	}
}

func TestDecoderSelfAttentionIsCausal(t *testing.T) {
	cfg := layerConfigs()[1]
	b := NewBuilder(randomSource(8), nil)
	l := NewDecoderLayer(b, cfg)
	rng := newRNG(9)
	x := tensor.RandNormal(rng, 0, 1, 1, 5, cfg.DModel)
	mem := autograd.Const(tensor.RandNormal(rng, 0, 1, 1, 3, cfg.DModel))
	base := l.Forward(autograd.Const(x), BlockInput{Mem: mem}).Value
	x2 := x.Clone()
	x2.Index(1, 4).Fill(3)
	changed := l.Forward(autograd.Const(x2), BlockInput{Mem: mem}).Value
	for p := range 4 {
		assert.Equal(t, base.Index(1, p).Values(), changed.Index(1, p).Values(), "position %d saw the future", p)
	}
}

func TestSinusoidalTable(t *testing.T) {
	const n, d = 50, 12
	pe := SinusoidalTable(n, d)
	require.Equal(t, []int{n, d}, pe.Shape())
	for p := range n {
		for i := 0; i < d; i += 2 {
			w := math.Pow(10000, -float64(i)/d)
			// float32 steps against the formula in float64: the argument p·w rounds to float32
			assert.InDelta(t, math.Sin(float64(p)*w), pe.At(p, i), 1e-5, "PE[%d, %d]", p, i)
			assert.InDelta(t, math.Cos(float64(p)*w), pe.At(p, i+1), 1e-5, "PE[%d, %d]", p, i+1)
		}
	}
	assert.Same(t, pe, SinusoidalTable(n, d), "tables are shared")
	odd := SinusoidalTable(3, 5)
	assert.InDelta(t, math.Sin(2*math.Pow(10000, -4.0/5)), odd.At(2, 4), 1e-6)
	s := NewSinusoidal(n, d)
	v := s.Forward(3, 4)
	assert.Equal(t, []int{1, 4, d}, v.Shape())
	assert.False(t, v.RequiresGrad())
	assert.Equal(t, pe.Narrow(0, 3, 4).Values(), v.Value.Values())
	assert.Panics(t, func() { s.Forward(48, 3) })
	rows := s.Lookup([]int{3, 4, 9, 10}, 2, 2) // two rows at their own positions
	assert.Equal(t, []int{2, 2, d}, rows.Shape())
	assert.Equal(t, pe.Narrow(0, 9, 2).Values(), rows.Value.Index(0, 1).Values())
	assert.Equal(t, v.Value.Values(), s.Lookup([]int{3, 4, 5, 6}, 7, 4).Value.Values(), "T positions are every row's")
}

func TestNewActivation(t *testing.T) {
	for name, want := range map[string][]float64{
		"relu": {0, 2},
		"gelu": {-1 * 0.5 * math.Erfc(1/math.Sqrt2), 2 * 0.5 * math.Erfc(-2/math.Sqrt2)}, // x·Φ(x), exact
	} {
		a, err := NewActivation(name)
		require.NoError(t, err)
		y := a.Forward(autograd.Const(tensor.FromSlice([]float32{-1, 2}, 2))).Value.Values()
		assert.InDelta(t, want[0], y[0], 1e-6, name)
		assert.InDelta(t, want[1], y[1], 1e-6, name)
	}
	_, err := NewActivation("swish")
	assert.ErrorContains(t, err, `activation "swish" is not supported`)
}
