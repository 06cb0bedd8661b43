package model

import (
	"context"
	"github.com/goformer/goformer/nn"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/optim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A model whose training diverged has NaN weights: generation reports it instead of panicking
// (top-p used to index out of range) or silently returning token 0 (greedy) or V−1 (sampling).
func TestGenerateRefusesNonFiniteLogits(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		m, err := New(genConfig(), 1)
		require.NoError(t, err)
		m.LnF.(*nn.LayerNorm).Weight.Value.Fill(bad)
		for _, s := range []Sampling{
			{MaxNew: 3},
			{MaxNew: 3, Temperature: 1, Seed: 1},
			{MaxNew: 3, Temperature: 0.8, TopP: 0.9},
			{MaxNew: 3, Temperature: 0.8, TopK: 5, TopP: 0.5},
		} {
			var got []int
			require.NotPanics(t, func() { got, err = m.GenerateAll(context.Background(), []int{1, 2}, s) })
			assert.Empty(t, got, "%+v", s)
			assert.ErrorContains(t, err, "not finite", "%+v", s)
		}
	}
}

// A config too large for the machine is an error from New, not a fatal out-of-memory crash.
func TestNewRefusesModelsLargerThanMemory(t *testing.T) {
	huge := Config{VocabSize: 1e12, BlockSize: 8, NLayer: 1, NHead: 1, NEmbd: 8}
	var err error
	require.NotPanics(t, func() { _, err = New(huge, 1) })
	assert.ErrorContains(t, err, "parameters")
	deep := Config{VocabSize: 8, BlockSize: 8, NLayer: math.MaxInt32, NHead: 4, NEmbd: 512}
	assert.Error(t, deep.Validate())

	total, ok := memTotal()
	if !ok {
		t.Skip("no /proc/meminfo: the check against the machine's memory does not apply")
	}
	// under the library's bound, but twice the machine's memory in wte alone
	const c = 64
	tooBig := Config{VocabSize: int(2 * total / (4 * c)), BlockSize: 8, NLayer: 1, NHead: 1, NEmbd: c}
	require.NoError(t, tooBig.Validate())
	_, err = New(tooBig, 1)
	assert.ErrorContains(t, err, "GiB")
}

// paramCount is read off the description; it must agree with a model actually built.
func TestParamCountMatchesABuiltModel(t *testing.T) {
	for _, cfg := range []Config{tinyConfig(), genConfig(), {VocabSize: 7, BlockSize: 3, NLayer: 5, NHead: 2, NEmbd: 6, NoBias: true}} {
		m, err := New(cfg, 1)
		require.NoError(t, err)
		assert.Equal(t, float64(m.NumParams()), paramCount(cfg))
	}
}

// The documented way to serve a model while it trains: the trainer publishes a Snapshot between
// optimiser steps, readers generate and evaluate on whichever snapshot is current. Under -race
// this is the test that the pattern is free of data races; in any mode, a snapshot keeps
// computing what the model computed when it was taken.
func TestSnapshotServesWhileTraining(t *testing.T) {
	m, err := New(tinyConfig(), 5)
	require.NoError(t, err)
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2})
	ids, targets := []int{1, 2, 3, 4, 5, 6}, []int{2, 3, 4, 5, 6, 7}
	ctx := context.Background()

	first := m.Snapshot()
	firstLoss, err := first.Loss(ids, targets, 2, 3)
	require.NoError(t, err)
	firstTokens, err := first.GenerateAll(ctx, []int{1}, Sampling{MaxNew: 5})
	require.NoError(t, err)

	var current atomic.Pointer[GPT]
	current.Store(first)
	done := make(chan struct{})
	var readers sync.WaitGroup
	served := atomic.Int64{}
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				s := current.Load()
				if _, err := s.GenerateAll(ctx, []int{1, 2}, Sampling{MaxNew: 3, Temperature: 1, Seed: 3}); err != nil {
					t.Error(err)
					return
				}
				if l, err := s.Loss(ids, targets, 2, 3); err != nil || l.RequiresGrad() {
					t.Error("a snapshot's loss must compute without a graph", err)
					return
				}
				served.Add(1)
			}
		}()
	}
	for range 20 {
		loss, err := m.Loss(ids, targets, 2, 3)
		require.NoError(t, err)
		loss.Backward()
		opt.Step()
		opt.ZeroGrad()
		autograd.Release(loss)
		current.Store(m.Snapshot()) // between steps: nothing writes the weights now
	}
	close(done)
	readers.Wait()
	t.Logf("%d requests served during training", served.Load())

	after, err := m.Frozen().Loss(ids, targets, 2, 3)
	require.NoError(t, err)
	assert.Less(t, after.Item(), firstLoss.Item(), "the model trained")
	again, err := first.Loss(ids, targets, 2, 3)
	require.NoError(t, err)
	assert.Equal(t, firstLoss.Item(), again.Item(), "the first snapshot did not change")
	tokens, err := first.GenerateAll(ctx, []int{1}, Sampling{MaxNew: 5})
	require.NoError(t, err)
	assert.Equal(t, firstTokens, tokens)
}
