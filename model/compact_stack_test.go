package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/nn"
)

// A compact view of a Llama-family model holds each layer's q, k and v, and SwiGLU's gate and
// up, as one stacked matrix each and computes what the separate projections compute, bit for bit
// (each output of a product depends on its own weight row alone): the logits over a prompt (the
// prefill, where the stacked outputs are split into strided views) and the greedy tokens after
// it, with attention biases and without. The weights are held once; views of the view stack the
// same matrices again without copying them; a view with adapters keeps the projections apart.
func TestCompactViewStacksSiblingProjections(t *testing.T) {
	plain := llamaTestConfig
	plain.QKVBias, plain.OutBias, plain.QKNorm = false, false, false
	ids := []int{3, 1, 4, 1, 5, 9, 2}
	for _, cfg := range []Config{llamaTestConfig, plain} {
		m, err := New(cfg, 3)
		require.NoError(t, err)
		for _, f := range []WeightFormat{BFloat16, Int8} {
			v, err := m.Compact(f)
			require.NoError(t, err)
			stackCompactSiblings = false
			ref, err := m.Compact(f)
			stackCompactSiblings = true
			require.NoError(t, err)
			require.NotNil(t, ref.H[0].Attn.Q, "the reference keeps its projections apart")

			stacked := func(g *GPT) *nn.Linear {
				t.Helper()
				for _, blk := range g.H {
					require.NotNil(t, blk.Attn.QKV, "%v: q, k and v stacked", f)
					require.Nil(t, blk.Attn.Q)
					require.NotNil(t, blk.FF.(*nn.SwiGLU).GateUp, "%v: gate and up stacked", f)
				}
				return g.H[0].Attn.QKV
			}
			qkv := stacked(v)
			want := forwardLogits(t, ref, ids)
			assert.Equal(t, want, forwardLogits(t, v, ids), "%v: logits", f)
			assert.Equal(t, ref.NumParams(), v.NumParams(), "%v: the weights counted once", f)
			assert.Equal(t, greedy(t, ref, ids, 8), greedy(t, v, ids, 8), "%v: greedy tokens", f)

			for _, g := range []*GPT{v.Frozen(), v.Snapshot()} {
				assert.Same(t, qkv.Compact.(*compactMatrix).w, stacked(g).Compact.(*compactMatrix).w, "%v: a view of the view copies nothing", f)
				assert.Equal(t, want, forwardLogits(t, g, ids))
			}
		}
		l, err := m.WithLoRA(LoRAConfig{Rank: 2})
		require.NoError(t, err)
		if lv, err := l.Compact(Int8); err == nil {
			assert.Nil(t, lv.H[0].Attn.QKV, "adapters keep the projections apart")
		}
	}
}

func forwardLogits(t *testing.T, g *GPT, ids []int) []float32 {
	t.Helper()
	out, err := g.Forward(ids, 1, len(ids))
	require.NoError(t, err)
	return out.Value.Values()
}

func greedy(t *testing.T, g *GPT, prompt []int, n int) []int {
	t.Helper()
	toks, err := g.GenerateAll(t.Context(), prompt, Sampling{MaxNew: n})
	require.NoError(t, err)
	return toks
}
