package model

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// A GPT with the paper's sinusoidal positions instead of GPT-2's learned table.
func TestGPTWithSinusoidalPositions(t *testing.T) {
	cfg := tinyConfig()
	cfg.Positions = PositionsSinusoidal
	m, err := New(cfg, 1)
	require.NoError(t, err)
	assert.Nil(t, m.WPE)
	require.NotNil(t, m.PE)
	assert.Equal(t, nn.SinusoidalTable(cfg.BlockSize, cfg.NEmbd).Values(), m.PE.Forward(0, cfg.BlockSize).Value.Values())
	for _, p := range m.Parameters() {
		assert.NotEqual(t, "wpe.weight", p.Name(), "no learned positions")
	}
	learned, err := New(tinyConfig(), 1)
	require.NoError(t, err)
	assert.Equal(t, learned.NumParams()-cfg.BlockSize*cfg.NEmbd, m.NumParams())

	// the positions reach the output: the same token at two positions gives two predictions
	ids := []int{3, 3}
	logits, err := m.Frozen().Forward(ids, 1, 2)
	require.NoError(t, err)
	v := cfg.VocabSize
	assert.NotEqual(t, logits.Value.Values()[:v], logits.Value.Values()[v:])

	// it trains, and generation with the KV cache gives what recomputing gives
	loss, err := m.Loss([]int{1, 2, 3, 4}, []int{2, 3, 4, 5}, 1, 4)
	require.NoError(t, err)
	loss.Backward()
	assert.NotNil(t, m.WTE.Weight.Grad())
	ctx := context.Background()
	var cached, plain []int
	for tok, err := range m.generate(ctx, []int{1, 2}, Sampling{MaxNew: 10}, true) {
		require.NoError(t, err)
		cached = append(cached, tok)
	}
	for tok, err := range m.generate(ctx, []int{1, 2}, Sampling{MaxNew: 10}, false) {
		require.NoError(t, err)
		plain = append(plain, tok)
	}
	assert.Equal(t, plain, cached)
	assert.Len(t, cached, 10)

	// GPT-2's layout cannot hold it; the learned default is unaffected
	assert.ErrorContains(t, SaveHF(m, t.TempDir()), "sinusoidal")
	assert.NoError(t, SaveHF(learned, filepath.Join(t.TempDir(), "hf")))
	assert.True(t, slices.ContainsFunc(learned.Parameters(), func(p *autograd.Var) bool { return p.Name() == "wpe.weight" }))

	bad := tinyConfig()
	bad.Positions = "alibi"
	_, err = New(bad, 1)
	assert.ErrorContains(t, err, `Positions must be "learned", "sinusoidal" or "rotary", got "alibi"`)
}
