package model

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// loraCases are a GPT-2 (fused c_attn, GELU MLP, biases) and a Llama-family model (separate
// q/k/v with biases, SwiGLU, QK-norm, untied head), with the number of Linear layers per block.
var loraCases = []struct {
	name     string
	cfg      Config
	perBlock int
	first    string // the first adapter's A, named as PEFT names it (without its base_model.model. prefix)
}{
	{"gpt2", tinyConfig(), 4, "h.0.attn.c_attn.lora_A.weight"},
	{"llama", llamaTestConfig, 7, "model.layers.0.self_attn.q_proj.lora_A.weight"},
}

// loraBatch is a batch of 2 rows of 6 ids and their targets for a vocabulary of v.
func loraBatch(v int) (x, y []int) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 12 {
		x, y = append(x, r.IntN(v)), append(y, r.IntN(v))
	}
	return x, y
}

func loraLogits(t *testing.T, m *GPT, ids []int) []float32 {
	t.Helper()
	l, err := m.Frozen().Forward(ids, 2, 6)
	require.NoError(t, err)
	return l.Value.Values()
}

// randomiseB gives every adapter a B as training would (B starts at zero, where the adapters
// change nothing and merging them nothing either).
func randomiseB(l *GPT) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, p := range l.Parameters() {
		if strings.HasSuffix(p.Name(), "lora_B.weight") {
			copy(p.Value.Data(), tensor.RandNormal(r, 0, 0.2, p.Shape()...).Values())
		}
	}
}

func TestLoRAParametersAndMerge(t *testing.T) {
	for _, tc := range loraCases {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, tc.cfg)
			x, _ := loraBatch(tc.cfg.VocabSize)
			base := loraLogits(t, m, x)
			l, err := m.WithLoRA(LoRAConfig{Rank: 2, Alpha: 8, Seed: 1})
			require.NoError(t, err)
			params := l.Parameters()
			require.Len(t, params, 2*tc.perBlock*tc.cfg.NLayer, "A and B of every Linear of the blocks, nothing else")
			assert.Equal(t, tc.first, params[0].Name())
			for _, p := range params {
				assert.True(t, strings.HasSuffix(p.Name(), ".lora_A.weight") || strings.HasSuffix(p.Name(), ".lora_B.weight"), p.Name())
				assert.True(t, p.RequiresGrad())
			}
			assert.Equal(t, base, loraLogits(t, l, x), "fresh adapters (B = 0) change nothing")

			randomiseB(l)
			adapted := loraLogits(t, l, x)
			assert.NotEqual(t, base, adapted)
			f, err := l.Forward(x, 2, 6)
			require.NoError(t, err)
			assert.Equal(t, f.Value.Values(), adapted, "the frozen view holds the adapters")
			assert.Equal(t, adapted, loraLogits(t, l.Snapshot(), x), "so does a snapshot")

			merged, err := l.Merge()
			require.NoError(t, err)
			assert.Nil(t, merged.LoRA())
			assert.Len(t, merged.Parameters(), len(m.Parameters()))
			got := loraLogits(t, merged, x)
			for i := range got {
				require.InDelta(t, adapted[i], got[i], 1e-5*(1+math.Abs(float64(adapted[i]))), "logit %d", i)
			}
			assert.Equal(t, base, loraLogits(t, m, x), "the base model is unchanged by merging")

			// SaveHF writes the merged model, which loads back bit for bit (GPT-2's layout
			// transposes its Conv1D weights on the way out and back in)
			dir := t.TempDir()
			require.NoError(t, SaveHF(l, dir))
			back, err := LoadHF(dir)
			require.NoError(t, err)
			assert.Equal(t, got, loraLogits(t, back, x))

			// decoding with the KV cache goes through the adapters too
			s := Sampling{MaxNew: 5}
			want, err := merged.GenerateAll(context.Background(), x[:3], s)
			require.NoError(t, err)
			gen, err := l.GenerateAll(context.Background(), x[:3], s)
			require.NoError(t, err)
			assert.Equal(t, want, gen)

			// a compact view keeps the adapters (in float32) beside the compact weights
			c, err := l.Compact(BFloat16)
			require.NoError(t, err)
			cm, err := merged.Compact(BFloat16)
			require.NoError(t, err)
			cl, cml := loraLogits(t, c, x), loraLogits(t, cm, x)
			diffAdapted, diffMerged := 0.0, 0.0
			for i := range cl {
				diffAdapted = max(diffAdapted, math.Abs(float64(cl[i]-adapted[i])))
				diffMerged = max(diffMerged, math.Abs(float64(cml[i]-adapted[i])))
			}
			assert.Less(t, diffAdapted, 0.05, "bf16 rounding only")
			assert.Less(t, diffMerged, 0.05)
			_, err = c.Merge()
			assert.ErrorContains(t, err, "view")
		})
	}
}

// The gradient of the loss with respect to the adapters matches central finite differences
// (float64 sums of float32 losses); the frozen weights get none, and the base model's
// parameters neither.
func TestLoRAGradients(t *testing.T) {
	for _, tc := range loraCases {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, tc.cfg)
			l, err := m.WithLoRA(LoRAConfig{Rank: 3, Seed: 2})
			require.NoError(t, err)
			require.NoError(t, l.SetDropout(0))
			randomiseB(l)
			x, y := loraBatch(tc.cfg.VocabSize)
			loss := func() float64 {
				v, err := l.Loss(x, y, 2, 6)
				require.NoError(t, err)
				return float64(v.Item())
			}
			v, err := l.Loss(x, y, 2, 6)
			require.NoError(t, err)
			v.Backward()
			for _, p := range m.Parameters() {
				assert.Nil(t, p.Grad(), "base parameter %s", p.Name())
			}
			r := rand.New(rand.NewPCG(3, 4))
			const h = 1e-2
			for _, p := range l.Parameters() {
				g := p.Grad()
				require.NotNil(t, g, p.Name())
				for range 2 {
					i := r.IntN(p.Value.Size())
					d := p.Value.Data()
					orig := d[i]
					d[i] = orig + h
					lp := loss()
					d[i] = orig - h
					lm := loss()
					d[i] = orig
					num := (lp - lm) / (2 * h)
					assert.InDelta(t, num, g.Values()[i], 2e-3+2e-2*math.Abs(num), "%s[%d]", p.Name(), i)
				}
			}
		})
	}
}

// Training the adapters lowers the loss, changes only A and B, and leaves the base model's
// weights as they were, bit for bit.
func TestLoRATrainsOnlyTheAdapters(t *testing.T) {
	m := mustNew(t, llamaTestConfig)
	var before [][]float32
	for _, p := range m.Parameters() {
		before = append(before, slices.Clone(p.Value.Values()))
	}
	l, err := m.WithLoRA(LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "v_proj", "down_proj"}, Seed: 1})
	require.NoError(t, err)
	assert.Len(t, l.Parameters(), 2*3*llamaTestConfig.NLayer)
	opt := optim.NewAdamW(l.Parameters(), optim.AdamWConfig{LR: 3e-2})
	x, y := loraBatch(llamaTestConfig.VocabSize)
	var losses []float32
	for range 8 {
		v, err := l.Loss(x, y, 2, 6)
		require.NoError(t, err)
		losses = append(losses, v.Item())
		v.Backward()
		opt.Step()
		opt.ZeroGrad()
	}
	assert.Less(t, losses[len(losses)-1], losses[0]-0.1, "%v", losses)
	for i, p := range m.Parameters() {
		assert.Equal(t, before[i], p.Value.Values(), p.Name())
	}
}

func TestLoRAErrors(t *testing.T) {
	m := mustNew(t, tinyConfig())
	for _, tc := range []struct {
		c    LoRAConfig
		want string
	}{
		{LoRAConfig{Rank: 0}, "rank"},
		{LoRAConfig{Rank: 2, Alpha: -1}, "alpha"},
		{LoRAConfig{Rank: 2, Alpha: float32(math.NaN())}, "alpha"},
		{LoRAConfig{Rank: 2, Targets: []string{"q_proj"}}, "no layer matches"},
		{LoRAConfig{Rank: 9}, "rank 9 is more than the 8 of h.0.attn.c_attn"},
		{LoRAConfig{Rank: 1 << 40}, "is more than"},
	} {
		_, err := m.WithLoRA(tc.c)
		assert.ErrorContains(t, err, tc.want, "%+v", tc.c)
	}
	l, err := m.WithLoRA(LoRAConfig{Rank: 2, Targets: []string{"mlp.c_proj"}})
	require.NoError(t, err)
	assert.Len(t, l.Parameters(), 2*tinyConfig().NLayer)
	_, err = l.WithLoRA(LoRAConfig{Rank: 2})
	assert.ErrorContains(t, err, "already")
	_, err = m.Merge()
	assert.ErrorContains(t, err, "no adapters")
}

// WithLoRAFrom puts adapters with given values on a base, as a checkpoint does: from a model's
// own adapters (and, for its frozen weights, BaseWeights) it makes a model computing the same
// logits. BaseWeights are the base's, named as its parameters and sharing their values.
func TestLoRAFromASourceAndBaseWeights(t *testing.T) {
	for _, tc := range loraCases {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, tc.cfg)
			assert.Nil(t, m.BaseWeights(), "a model without adapters has none")
			c := LoRAConfig{Rank: 2, Alpha: 8, Seed: 3}
			l, err := m.WithLoRA(c)
			require.NoError(t, err)
			randomiseB(l)

			base := l.BaseWeights()
			require.Len(t, base, len(m.Parameters()))
			for i, p := range m.Parameters() {
				assert.Equal(t, p.Name(), base[i].Name())
				assert.Same(t, p.Value, base[i].Value, "%s shares the base's values", p.Name())
				assert.False(t, base[i].RequiresGrad(), "%s is frozen", p.Name())
			}

			c.Seed = 99 // draws no adapter now: the dropout generator only
			back, err := m.WithLoRAFrom(c, nn.Shared(l.Parameters(), false))
			require.NoError(t, err)
			x, _ := loraBatch(tc.cfg.VocabSize)
			assert.Equal(t, loraLogits(t, l, x), loraLogits(t, back, x))
			assert.Equal(t, l.LoRA().Rank, back.LoRA().Rank)

			_, err = m.WithLoRAFrom(LoRAConfig{Rank: 3}, nn.Shared(l.Parameters(), false))
			assert.ErrorContains(t, err, "model.WithLoRAFrom")
		})
	}
}

// SameAdapters compares what the adapters compute: rank, alpha (0 meaning the rank) and
// targets, not the seed.
func TestSameAdapters(t *testing.T) {
	c := LoRAConfig{Rank: 4, Alpha: 4, Targets: []string{"q_proj"}, Seed: 1}
	assert.True(t, c.SameAdapters(LoRAConfig{Rank: 4, Targets: []string{"q_proj"}, Seed: 2}))
	assert.False(t, c.SameAdapters(LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj"}}))
	assert.False(t, c.SameAdapters(LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj"}}))
	assert.False(t, c.SameAdapters(LoRAConfig{Rank: 4, Alpha: 4}))
}
