package model

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// A decoding step runs the blocks on the sequences' rows in reused buffers (nn.Block.StepRow) and
// gives the logits the graph's step gives, bit for bit, step after step (past the KV cache's
// first room), for one sequence and for three of different lengths, one of which leaves: GPT-2's blocks (learned or sinusoidal positions,
// LayerNorm, GELU, biases) and the Llama family's (RMSNorm, rotary positions with llama3
// scaling, SwiGLU, grouped KV heads, QK-norm, q/k/v and output biases), with float32, bf16 and
// int8 weights, stacked or not. Every parameter is drawn at random first (biases and norm
// weights are 0 and 1 in a fresh model, which would hide a bias or weight left out).
func TestRowStepIsTheGraphStep(t *testing.T) {
	gpt2 := Config{VocabSize: 61, BlockSize: 48, NLayer: 2, NHead: 4, NEmbd: 32, GELUTanh: true}
	sinusoidal := gpt2
	sinusoidal.Positions, sinusoidal.GELUTanh = PositionsSinusoidal, false
	mha := llamaTestConfig
	mha.NKVHead, mha.QKNorm, mha.QKVBias, mha.OutBias, mha.UntiedHead = 0, false, false, false, false
	mha.RopeScaling, mha.BlockSize = nn.RopeScaling{}, 48
	prompt := []int{3, 1, 4, 1, 5, 9, 2, 6}
	for name, cfg := range map[string]Config{"gpt2": gpt2, "sinusoidal": sinusoidal, "llama": llamaTestConfig, "llama-mha": mha} {
		m, err := New(cfg, 5)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(7, 8))
		for _, p := range m.params {
			d := p.Value.Data()
			for i := range d {
				d[i] += float32(rng.NormFloat64() * 0.2)
			}
		}
		for _, f := range []WeightFormat{Float32, BFloat16, Int8} {
			for _, stack := range []bool{true, false} {
				stackCompactSiblings = stack
				v, err := m.Compact(f)
				stackCompactSiblings = true
				require.NoError(t, err)
				require.True(t, v.Frozen().canStepRow(), "%s %v: the row path takes this model", name, f)
				for _, prompts := range [][][]int{{prompt}, {prompt, prompt[:3], prompt[2:7]}} {
					steps := cfg.BlockSize - len(prompt)
					want := decodeLogits(t, v, prompts, steps, false)
					got := decodeLogits(t, v, prompts, steps, true)
					require.Len(t, got, steps)
					for i := range want {
						if !assert.Equal(t, want[i], got[i], "%s %v stacked %v, %d rows: logits of step %d", name, f, stack, len(prompts), i) {
							break
						}
					}
				}
			}
		}
	}
}

// decodeLogits returns the logits of steps greedy decoding steps of the sequences after prompts
// (of different lengths: the rows of the KV caches hold different numbers of positions), with
// the blocks run as rows or as the graph. With several rows, the second leaves the batch after
// a third of the steps (the caches' rows are reordered).
func decodeLogits(t *testing.T, v *GPT, prompts [][]int, steps int, rows bool) [][][]float32 {
	t.Helper()
	stepRows = rows
	defer func() { stepRows = true }()
	d := newDecoder(v.Frozen(), prompts, true)
	var out [][][]float32
	for i := range steps {
		if i == steps/3 && len(d.seqs) > 1 {
			d.keep([]int{0, 2})
		}
		var step [][]float32
		for r, logits := range d.next() {
			step = append(step, slices.Clone(logits))
			d.seqs[r] = append(d.seqs[r], argmax(logits))
		}
		out = append(out, step)
	}
	require.Equal(t, rows, d.rows.allowed == 1, "the path asked for is the path taken")
	return out
}

// A compact matrix multiplies rows into a buffer (nn.RowMatrix) as MulT does, bias and all, for a
// whole matrix and for a row range of one (a view's named projection inside a stacked matrix).
func TestCompactMulTRowIsMulT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := tensor.RandNormal(rng, 0, 0.5, 40, 64)
	x := tensor.RandNormal(rng, 0, 1, 3, 1, 64) // three rows
	for _, f := range []WeightFormat{BFloat16, Int8} {
		whole, err := newCompactMatrix(w, f, "w")
		require.NoError(t, err)
		for _, m := range []nn.Matrix{whole, whole.Narrow(8, 24)} {
			n, _ := m.Dims()
			bias := tensor.RandNormal(rng, 0, 1, n)
			want := m.MulT(autograd.Const(x), autograd.Const(bias)).Value.Values()
			got := make([]float32, 3*n)
			m.(nn.RowMatrix).MulTRow(got, x.Values(), bias.Values())
			assert.Equal(t, want, got, "%v, %d outputs", f, n)
		}
	}
}
