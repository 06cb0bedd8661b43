package model

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// Configs far beyond any machine are errors from Validate, which computes sizes without
// allocating: NewTransformer and the loaders refuse them before allocating anything (these
// configs used to die of out-of-memory).
func TestTransformerConfigBoundsSizes(t *testing.T) {
	wide := tinyTransformerConfig()
	wide.DModel = 1e8
	long := tinyTransformerConfig()
	long.MaxLen = 2e9
	long.DModel = 32
	deep := tinyTransformerConfig()
	deep.NumDecoderLayers = 1 << 40
	for _, c := range []struct {
		cfg  TransformerConfig
		want string
	}{{wide, "parameters"}, {long, "positional-encoding values"}, {deep, "parameters"}} {
		assert.ErrorContains(t, c.cfg.Validate(), c.want)
		var err error
		require.NotPanics(t, func() { _, err = NewTransformer(c.cfg, 1) })
		assert.ErrorContains(t, err, c.want)
	}
	// the parameter count Validate bounds is the model's
	for _, cfg := range []TransformerConfig{tinyTransformerConfig(), {SrcVocabSize: 5, TgtVocabSize: 7, DModel: 4, NHead: 1,
		NumEncoderLayers: 3, NumDecoderLayers: 1, DimFeedforward: 3, Activation: "relu", MaxLen: 4, PadID: 0, BosID: 1, EosID: 2}} {
		m, err := NewTransformer(cfg, 1)
		require.NoError(t, err)
		assert.Equal(t, float64(m.NumParams()), transformerParamCount(cfg))
	}

	total, ok := memTotal()
	if !ok {
		t.Skip("no /proc/meminfo: the check against the machine's memory does not apply")
	}
	// under the library's bound, but twice the machine's memory in the source embedding alone
	tooBig := tinyTransformerConfig()
	tooBig.SrcVocabSize = int(2 * total / (4 * uint64(tooBig.DModel)))
	require.NoError(t, tooBig.Validate())
	_, err := NewTransformer(tooBig, 1)
	assert.ErrorContains(t, err, "GiB")
}

// config.json claiming a huge d_model or max_len beside a small weights file is an error, not
// an allocation of what the config claims.
func TestLoadTransformerRefusesHugeConfigs(t *testing.T) {
	cfg := tinyTransformerConfig()
	dir := writeTransformerDir(t, cfg, func(map[string]*tensor.Tensor) {})
	for _, c := range []struct {
		edit func(*TransformerConfig)
		want string
	}{
		{func(c *TransformerConfig) { c.DModel = 1e8 }, "parameters"},
		{func(c *TransformerConfig) { c.MaxLen = 2e9; c.DModel = 32 }, "positional-encoding values"},
		{func(c *TransformerConfig) { c.DModel = 1 << 12; c.NHead = 1 }, `has shape [11 8], want [11 4096]`},
		{func(c *TransformerConfig) { c.DimFeedforward = 1e8 }, "want [100000000 8]"},
	} {
		big := cfg
		c.edit(&big)
		js, err := json.Marshal(big)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644))
		require.NotPanics(t, func() { _, err = LoadTransformer(dir) })
		assert.ErrorContains(t, err, c.want)
	}
	// max_len alone is no tensor's size: a long max_len loads (the positional table is made only
	// as far as it is used)
	long := cfg
	long.MaxLen = 1 << 28
	js, err := json.Marshal(long)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644))
	m, err := LoadTransformer(dir)
	require.NoError(t, err)
	_, err = m.Frozen().Forward(tinySrc, tinyTgtIn, 2)
	assert.NoError(t, err)
}

// A model whose training diverged has non-finite weights: Translate reports it, greedy and beam
// alike, instead of returning token 0 (an argmax over NaN).
func TestTranslateRefusesNonFiniteLogits(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		m, err := NewTransformer(tinyTransformerConfig(), 1)
		require.NoError(t, err)
		m.DecoderNorm.Weight.Value.Fill(bad)
		for _, d := range []Decoding{{MaxNew: 3}, {MaxNew: 3, Beam: 2}, {MaxNew: 3, Beam: 3, LengthPenalty: 1}} {
			var hyps []Hypothesis
			require.NotPanics(t, func() { hyps, err = m.Translate(context.Background(), [][]int{{3, 4, 5}, {6}}, d) })
			assert.Nil(t, hyps, "%+v", d)
			assert.ErrorContains(t, err, "not finite", "%+v", d)
		}
		_, err = m.translate(context.Background(), [][]int{{3, 4}}, Decoding{MaxNew: 2}, false)
		assert.ErrorContains(t, err, "not finite", "uncached")
	}
}

// The documented way to translate while the model trains: the trainer publishes a Snapshot
// between AdamW steps, readers translate with whichever is current. Under -race this is the test
// that the pattern is free of data races (Translate on m itself beside the steps was one); in any
// mode, a snapshot keeps computing what the model computed when it was taken.
func TestTransformerSnapshotTranslatesWhileTraining(t *testing.T) {
	m, err := NewTransformer(tinyTransformerConfig(), 5)
	require.NoError(t, err)
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2})
	ctx := context.Background()
	srcs := [][]int{{3, 4, 5}, {6, 7}}

	first := m.Snapshot()
	firstLoss, err := first.Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
	require.NoError(t, err)
	assert.False(t, firstLoss.RequiresGrad(), "a snapshot records no graph")
	firstOut, err := first.Translate(ctx, srcs, Decoding{MaxNew: 4, Beam: 2})
	require.NoError(t, err)

	var current atomic.Pointer[Transformer]
	current.Store(first)
	done := make(chan struct{})
	var readers sync.WaitGroup
	served := atomic.Int64{}
	for i := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for range 20 { // enough to overlap the steps, few enough to keep the test quick under -race
				select {
				case <-done:
					return
				default:
				}
				if _, err := current.Load().Translate(ctx, srcs, Decoding{MaxNew: 4, Beam: i}); err != nil {
					t.Error(err)
					return
				}
				served.Add(1)
			}
		}()
	}
	for range 5 {
		loss, err := m.Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
		require.NoError(t, err)
		loss.Backward()
		opt.Step()
		opt.ZeroGrad()
		current.Store(m.Snapshot()) // between steps: nothing writes the weights now
	}
	close(done)
	readers.Wait()
	t.Logf("%d translations during training", served.Load())

	after, err := m.Frozen().Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
	require.NoError(t, err)
	assert.Less(t, after.Item(), firstLoss.Item(), "the model trained")
	again, err := first.Translate(ctx, srcs, Decoding{MaxNew: 4, Beam: 2})
	require.NoError(t, err)
	assert.Equal(t, firstOut, again, "the first snapshot did not change")
	for _, p := range first.Parameters() {
		assert.False(t, p.RequiresGrad(), "%s is a constant", p.Name())
	}
}

// MaxNew means the same in both models' decoding settings: at most that many new tokens, 0
// giving none (Decoding.MaxNew 0 used to mean max_len − 1).
func TestMaxNewZeroDecodesNothingInBothModels(t *testing.T) {
	ctx := context.Background()
	gpt, err := New(tinyConfig(), 1)
	require.NoError(t, err)
	toks, err := gpt.GenerateAll(ctx, []int{1, 2}, Sampling{})
	require.NoError(t, err)
	assert.Empty(t, toks)

	tr, err := NewTransformer(tinyTransformerConfig(), 1)
	require.NoError(t, err)
	for _, d := range []Decoding{{}, {Beam: 3}} {
		hyps, err := tr.Translate(ctx, [][]int{{3, 4}, {5}}, d)
		require.NoError(t, err)
		require.Len(t, hyps, 2)
		for _, h := range hyps {
			assert.Empty(t, h.Tokens, "%+v", d)
			assert.False(t, h.Ended, "%+v", d)
		}
	}
	// and a positive MaxNew bounds the output: no more tokens than asked, EOS counted
	for _, d := range []Decoding{{MaxNew: 2}, {MaxNew: 2, Beam: 2}} {
		hyps, err := tr.Translate(ctx, [][]int{{3, 4}, {5}}, d)
		require.NoError(t, err)
		for _, h := range hyps {
			n := len(h.Tokens)
			if h.Ended {
				n++
			}
			assert.LessOrEqual(t, n, 2, "%+v", d)
		}
	}
}

// The GPT's sinusoidal positions get the same bound and the same laziness: Validate computed its
// parameter count by building the layer tree, which made the whole table (BlockSize 2e9 died of
// out-of-memory in Validate itself).
func TestGPTSinusoidalContextIsBoundedAndLazy(t *testing.T) {
	huge := Config{VocabSize: 8, BlockSize: 2e9, NLayer: 1, NHead: 1, NEmbd: 64, Positions: PositionsSinusoidal}
	var err error
	require.NotPanics(t, func() { err = huge.Validate() })
	assert.ErrorContains(t, err, "positional-encoding values")
	long := Config{VocabSize: 8, BlockSize: 1 << 28, NLayer: 1, NHead: 1, NEmbd: 8, Positions: PositionsSinusoidal}
	m, err := New(long, 1)
	require.NoError(t, err)
	_, err = m.Frozen().Forward([]int{1, 2, 3}, 1, 3)
	assert.NoError(t, err)
}
