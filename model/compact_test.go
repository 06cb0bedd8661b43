package model

import (
	"context"
	"flag"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/nn"
)

func TestWeightFormatNames(t *testing.T) {
	for s, want := range map[string]WeightFormat{"float32": Float32, "FP32": Float32, "f32": Float32, "bf16": BFloat16, "bfloat16": BFloat16, " BF16 ": BFloat16, "int8": Int8} {
		got, err := ParseWeightFormat(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, f := range []WeightFormat{Float32, BFloat16, Int8} {
		got, err := ParseWeightFormat(f.String())
		require.NoError(t, err)
		assert.Equal(t, f, got, "String reads back")
	}
	_, err := ParseWeightFormat("int4")
	assert.EqualError(t, err, `model: unknown weight format "int4" (want float32, bf16 or int8)`)
	assert.Equal(t, "WeightFormat(7)", WeightFormat(7).String())

	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	w := Float32
	fs.Var(&w, "weights", "")
	require.NoError(t, fs.Parse([]string{"-weights", "int8"}))
	assert.Equal(t, Int8, w)
	assert.Error(t, fs.Parse([]string{"-weights", "half"}))
}

// compactTestConfig has widths that are not multiples of the kernels' steps (40, 160), so the
// products' tails are exercised.
var compactTestConfig = Config{VocabSize: 71, BlockSize: 24, NLayer: 2, NHead: 4, NEmbd: 40}

func TestCompactFloat32IsFrozen(t *testing.T) {
	m, err := New(compactTestConfig, 2)
	require.NoError(t, err)
	v, err := m.Compact(Float32)
	require.NoError(t, err)
	assert.Equal(t, Float32, v.WeightFormat())
	ids := []int{1, 5, 9, 3, 70, 0, 4, 4}
	got, err := v.Forward(ids, 2, 4)
	require.NoError(t, err)
	want, err := m.Frozen().Forward(ids, 2, 4)
	require.NoError(t, err)
	assert.Equal(t, want.Value.Values(), got.Value.Values())
	assert.False(t, got.RequiresGrad())
	assert.Equal(t, m.NumParams(), v.NumParams())
}

// A compact view holds its weight matrices only in the compact format, and keeps its small
// parameters in float32.
func TestCompactViewHoldsCompactMatrices(t *testing.T) {
	m, err := New(compactTestConfig, 3)
	require.NoError(t, err)
	c := compactTestConfig.NEmbd
	for _, f := range []WeightFormat{BFloat16, Int8} {
		v, err := m.Compact(f)
		require.NoError(t, err)
		assert.Equal(t, f, v.WeightFormat())
		assert.Equal(t, m.NumParams(), v.NumParams())
		require.Nil(t, v.WTE.Weight)
		require.NotNil(t, v.WTE.Compact)
		require.NotNil(t, v.WPE.Weight, "the position table stays float32")
		matrices, rows, bytes := 0, 0, 0
		for _, blk := range v.H {
			for _, l := range []*nn.Linear{blk.Attn.QKV, blk.Attn.Out, blk.FF.(*nn.MLP).Up, blk.FF.(*nn.MLP).Down} {
				assert.Nil(t, l.Weight)
				require.NotNil(t, l.Compact)
				n, k := l.Compact.Dims()
				matrices += n * k
				rows += n
				bytes += l.Compact.(*compactMatrix).Bytes()
			}
		}
		matrices += compactTestConfig.VocabSize * c
		rows += compactTestConfig.VocabSize
		bytes += v.WTE.Compact.(*compactMatrix).Bytes()
		for _, p := range v.Parameters() {
			assert.False(t, p.RequiresGrad(), p.Name())
			assert.True(t, p.Value.Dims() == 1 || p.Name() == "wpe.weight", "%s %v is kept in float32", p.Name(), p.Shape())
		}
		perWeight := float64(bytes) / float64(matrices)
		t.Logf("%v: %.3f bytes per weight", f, perWeight)
		if f == BFloat16 {
			assert.Equal(t, 2*matrices, bytes)
		} else {
			assert.Equal(t, matrices+8*rows, bytes, "a byte per weight; per row a float32 scale and an int32 sum (for the VNNI products)")
		}
	}
}

// A compact view keeps no reference to the float32 matrices: once the model is dropped, the
// garbage collector frees them.
func TestCompactViewLetsTheFloat32WeightsGo(t *testing.T) {
	m, err := New(compactTestConfig, 8)
	require.NoError(t, err)
	wte := weak.Make(&m.WTE.Weight.Value.Data()[0])
	fc := weak.Make(&m.H[0].FF.(*nn.MLP).Up.Weight.Value.Data()[0])
	lnf := weak.Make(&m.LnF.(*nn.LayerNorm).Weight.Value.Data()[0])
	v, err := m.Compact(BFloat16)
	require.NoError(t, err)
	m = nil
	// A reference that only lingers (a helper goroutine not yet scheduled) lets go within a few
	// collections; one the view kept would never.
	for try := 0; try < 50 && (wte.Value() != nil || fc.Value() != nil); try++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	assert.Nil(t, wte.Value(), "the token embedding was freed")
	assert.Nil(t, fc.Value(), "a Linear weight was freed")
	assert.NotNil(t, lnf.Value(), "the view shares the small parameters")
	_, err = v.GenerateAll(context.Background(), []int{1}, Sampling{MaxNew: 3})
	assert.NoError(t, err)
	runtime.KeepAlive(v)
}

func TestCompactViewRefusesWhatNeedsFloat32(t *testing.T) {
	m, err := New(compactTestConfig, 4)
	require.NoError(t, err)
	v, err := m.Compact(Int8)
	require.NoError(t, err)
	assert.ErrorContains(t, SaveHF(v, t.TempDir()), "int8 view")
	assert.ErrorContains(t, v.CropBlockSize(8), "model.CropBlockSize: this is a int8 view")
	assert.ErrorContains(t, v.SetDropout(0.1), "model.SetDropout")
	assert.Nil(t, v.DropoutRNG(), "no training state: checkpoint.Save refuses it as a frozen view")
	_, err = v.Compact(BFloat16)
	assert.EqualError(t, err, "model.Compact: this view's weights are int8; make the bf16 view from the float32 model")
	_, err = v.Compact(Float32)
	assert.Error(t, err)
	_, err = m.Compact(WeightFormat(9))
	assert.EqualError(t, err, "model.Compact: unknown weight format 9")
	again, err := v.Compact(Int8)
	require.NoError(t, err)
	assert.Equal(t, Int8, again.WeightFormat())

	// int8 cannot hold a non-finite weight; bf16 can
	m.H[1].FF.(*nn.MLP).Up.Weight.Value.Set(float32(math.Inf(1)), 3, 4)
	_, err = m.Compact(Int8)
	assert.ErrorContains(t, err, "h.1.mlp.c_fc.weight")
	_, err = m.Compact(BFloat16)
	assert.NoError(t, err)
}

// The views of a compact view (Frozen, Snapshot, a second Compact) compute what it computes; a
// snapshot keeps its float32 parameters when the model's change.
func TestCompactViewsOfAView(t *testing.T) {
	m, err := New(compactTestConfig, 5)
	require.NoError(t, err)
	v, err := m.Compact(BFloat16)
	require.NoError(t, err)
	ids := []int{3, 1, 4, 1, 5, 9, 2, 6}
	logits := func(g *GPT) []float32 {
		out, err := g.Forward(ids, 1, len(ids))
		require.NoError(t, err)
		return out.Value.Values()
	}
	want := logits(v)
	snap := v.Snapshot()
	for _, g := range []*GPT{v.Frozen(), snap} {
		assert.Equal(t, BFloat16, g.WeightFormat())
		assert.Equal(t, want, logits(g))
	}
	m.LnF.(*nn.LayerNorm).Weight.Value.Fill(2) // shared with v (as Frozen shares), copied by the snapshot
	assert.NotEqual(t, want, logits(v))
	assert.Equal(t, want, logits(snap))
}

// GenerateBatch on a compact view gives each prompt the tokens GenerateAll gives it alone, and
// Inspect and Generate agree with Forward.
func TestCompactGenerateBatchMatchesGenerate(t *testing.T) {
	ctx := context.Background()
	long := make([]int, 40) // past BlockSize: cropped, and its window slides
	for i := range long {
		long[i] = (i * 7) % compactTestConfig.VocabSize
	}
	prompts := [][]int{{1}, {5, 6, 7}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13}, long, {70}}
	sinusoidal := compactTestConfig
	sinusoidal.Positions, sinusoidal.NoBias = "sinusoidal", true
	for i, f := range []WeightFormat{BFloat16, Int8, BFloat16} {
		cfg := compactTestConfig
		if i == 2 {
			cfg = sinusoidal
		}
		m, err := New(cfg, 6)
		require.NoError(t, err)
		v, err := m.Compact(f)
		require.NoError(t, err)
		for _, s := range []Sampling{{MaxNew: 12}, {MaxNew: 10, Temperature: 0.9, TopK: 20, Seed: 7}} {
			got, err := v.GenerateBatch(ctx, prompts, s)
			require.NoError(t, err)
			for r, p := range prompts {
				want, err := v.GenerateAll(ctx, p, s)
				require.NoError(t, err)
				assert.Equal(t, want, got[r], "%v %+v prompt %d", f, s, r)
				assert.Len(t, want, s.MaxNew)
			}
		}
		// greedy's first token is the argmax of the last position's logits, and Inspect shows
		// the same distribution
		p := prompts[2]
		out, err := v.Forward(p, 1, len(p))
		require.NoError(t, err)
		last := out.Value.Values()[(len(p)-1)*compactTestConfig.VocabSize:]
		first, err := v.GenerateAll(ctx, p, Sampling{MaxNew: 1})
		require.NoError(t, err)
		assert.Equal(t, argmax(last), first[0])
		in, err := v.Inspect(p)
		require.NoError(t, err)
		require.Len(t, in.Attention, compactTestConfig.NLayer)
		probs := softmax64(last)
		for i, q := range in.Next[len(p)-1] {
			assert.InDelta(t, probs[i], q, 1e-6)
		}
	}
}

// Many goroutines may generate from one compact view at once (run with -race).
func TestCompactViewConcurrentGeneration(t *testing.T) {
	m, err := New(compactTestConfig, 7)
	require.NoError(t, err)
	v, err := m.Compact(Int8)
	require.NoError(t, err)
	want, err := v.GenerateAll(context.Background(), []int{1, 2, 3}, Sampling{MaxNew: 8})
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([][]int, 4)
	for i := range got {
		wg.Go(func() {
			got[i], _ = v.GenerateAll(context.Background(), []int{1, 2, 3}, Sampling{MaxNew: 8})
		})
	}
	wg.Wait()
	for i := range got {
		assert.True(t, slices.Equal(want, got[i]), "goroutine %d: %v, want %v", i, got[i], want)
	}
}
