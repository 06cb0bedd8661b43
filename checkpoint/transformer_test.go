package checkpoint

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

func transformerConfig4Test() model.TransformerConfig {
	return model.TransformerConfig{
		SrcVocabSize: 11, TgtVocabSize: 13, DModel: 8, NHead: 2, NumEncoderLayers: 1, NumDecoderLayers: 2,
		DimFeedforward: 12, Activation: "relu", MaxLen: 16, Dropout: 0.2, PadID: 0, BosID: 1, EosID: 2,
	}
}

// trainTransformer runs iterations [from, to) on batches drawn from data: the task is to copy a
// random source, padded on the right.
func trainTransformer(t testing.TB, m *model.Transformer, opt optim.Optimizer, data *rand.PCG, from, to int) {
	t.Helper()
	const b, n = 3, 5
	rng := rand.New(data)
	for range to - from {
		src := make([]int, b*n)
		tgtIn := make([]int, b*(n+1))
		tgtOut := make([]int, b*(n+1))
		for r := range b {
			tgtIn[r*(n+1)] = 1
			for i := range n {
				tok := 3 + rng.IntN(8)
				src[r*n+i] = tok
				tgtIn[r*(n+1)+i+1] = tok
				tgtOut[r*(n+1)+i] = tok
			}
			tgtOut[r*(n+1)+n] = 2
		}
		loss, err := m.Loss(src, tgtIn, tgtOut, b)
		require.NoError(t, err)
		loss.Backward()
		optim.ClipGradNorm(m.Parameters(), 1.0)
		opt.Step()
		opt.ZeroGrad()
	}
}

// The encoder–decoder resumes as the GPT does: N steps straight equal N/2, a save, a load into a
// model and optimizer built fresh with another seed, and N/2 more, to the bit (dropout on, so the
// saved generator matters).
func TestTransformerResumeIsBitwiseIdentical(t *testing.T) {
	cfg := transformerConfig4Test()
	newRun := func(seed uint64) (*model.Transformer, optim.Optimizer) {
		m, err := model.NewTransformer(cfg, seed)
		require.NoError(t, err)
		return m, optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 3e-3, WeightDecay: 0.01})
	}
	const n = 8
	straight, opt := newRun(1)
	trainTransformer(t, straight, opt, rand.NewPCG(3, 4), 0, n)

	first, opt := newRun(1)
	data := rand.NewPCG(3, 4)
	trainTransformer(t, first, opt, data, 0, n/2)
	dir := t.TempDir()
	require.NoError(t, Save(dir, first, State{Step: n / 2, Optimizer: opt, RNGs: map[string]RNGState{"data": data}}))

	ck, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, KindTransformer, ck.Kind)
	_, err = ck.GPT()
	assert.ErrorContains(t, err, "transformer", "a Transformer checkpoint is not a GPT")
	resume := func(scramble bool) map[string][]uint32 {
		m, err := ck.Transformer()
		require.NoError(t, err)
		m2, o := newRun(99)
		require.NoError(t, ck.Restore(m2, o))
		assert.Equal(t, paramBits(m), paramBits(m2))
		if scramble {
			m2.DropoutRNG().Seed(7, 7)
		}
		d := rand.NewPCG(0, 0)
		require.NoError(t, ck.RestoreRNG("data", d))
		trainTransformer(t, m2, o, d, ck.Step, n)
		return paramBits(m2)
	}
	assert.Equal(t, paramBits(straight), resume(false))
	assert.NotEqual(t, paramBits(straight), resume(true), "without the dropout generator's state training differs")

	// a GPT cannot be restored from it, nor a Transformer of another shape
	other := cfg
	other.DModel = 12
	m3, err := model.NewTransformer(other, 1)
	require.NoError(t, err)
	assert.Error(t, ck.Restore(m3, nil))
	assert.Error(t, ck.Restore(newGPT(t, tinyConfig(), 1), nil))
}
