package model

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/safetensors"
)

// TestTransformerCompact checks the compact views of PyTorch's nn.Transformer fixture (trained to
// reverse sequences): their logits equal, to float32 rounding, those of the float32 model with its
// matrices rounded by hand (bf16: nearest even; int8: round(w/s)·s, s = the row's max|w|/127); they
// stay within the GPT's compact tolerance of PyTorch's (compactLogitSlack, made for the nine
// rounded matrices a GPT-2 fixture's logit passes through, scaled to this model's 23: two
// embeddings, 4 per encoder layer, 6 per decoder layer, the generator); their greedy and beam
// translations equal float32's; and a view refuses what needs float32 weights, as GPT's views do.
func TestTransformerCompact(t *testing.T) {
	dir := seq2seqFixture(t)
	m, err := LoadTransformer(dir)
	require.NoError(t, err)
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	require.NoError(t, err)
	defer ref.Close()
	src, srcShape := int64Tensor(t, ref, "src")
	tgtIn, _ := int64Tensor(t, ref, "tgt_in")
	tgtOut, _ := int64Tensor(t, ref, "tgt_out")
	wantT, err := ref.Float32("logits")
	require.NoError(t, err)
	want, b := wantT.Values(), srcShape[0]
	scale := 0.0
	for _, x := range want {
		scale = max(scale, math.Abs(float64(x)))
	}
	srcs := [][]int{src[:srcShape[1]], {5, 6, 7, 8}}
	plain, err := m.Translate(context.Background(), srcs, Decoding{})
	require.NoError(t, err)

	for _, f := range []WeightFormat{BFloat16, Int8} {
		t.Run(f.String(), func(t *testing.T) {
			v, err := m.Compact(f)
			require.NoError(t, err)
			assert.Equal(t, f, v.WeightFormat())
			assert.Equal(t, m.NumParams(), v.NumParams())
			require.Nil(t, v.TgtEmbed.Weight)
			require.NotNil(t, v.Generator.Compact)
			require.NotNil(t, v.Decoder[0].Cross.QKV.Compact)
			for _, p := range v.Parameters() {
				assert.Equal(t, 1, p.Value.Dims(), "%s: only the biases and norms stay float32", p.Name())
			}

			logits, err := v.Forward(src, tgtIn, b)
			require.NoError(t, err)
			got := logits.Value.Values()
			require.Len(t, got, len(want))
			worst := 0.0
			for i := range want {
				worst = max(worst, math.Abs(float64(got[i])-float64(want[i])))
			}
			tol := compactLogitSlack[f] * scale * 23 / 9
			t.Logf("logits: max abs error %.3g against PyTorch's (tolerance %.3g; max |logit| %.3g)", worst, tol, scale)
			assert.LessOrEqual(t, worst, tol)

			rounded, err := LoadTransformer(dir)
			require.NoError(t, err)
			for _, p := range rounded.Parameters() {
				if p.Value.Dims() == 2 {
					roundByHand(p.Value.Data(), p.Value.Dim(1), f)
				}
			}
			hand, err := rounded.Frozen().Forward(src, tgtIn, b)
			require.NoError(t, err)
			gemm.UseDotKernels(false) // the widening kernels keep the activations float32, as the hand-rounded model does
			wide, err := v.Forward(src, tgtIn, b)
			gemm.UseDotKernels(true)
			require.NoError(t, err)
			assertClose(t, "logits against hand-rounded weights", wide.Value.Values(), hand.Value.Values(), 1e-5, 1e-5)

			for _, w := range []*Transformer{v, v.Frozen(), v.Snapshot()} {
				hyps, err := w.Translate(context.Background(), srcs, Decoding{})
				require.NoError(t, err)
				for r := range hyps {
					assert.Equal(t, plain[r].Tokens, hyps[r].Tokens, "source %d", r)
				}
			}
			beam, err := v.Translate(context.Background(), srcs, Decoding{Beam: 3})
			require.NoError(t, err)
			assert.Equal(t, plain[0].Tokens, beam[0].Tokens, "beam search, reordering the compact view's caches")

			loss, err := v.Loss(src, tgtIn, tgtOut, b)
			require.NoError(t, err)
			assert.Contains(t, backwardPanic(loss), "does not require grad")
			assert.ErrorContains(t, SaveTransformer(v, t.TempDir()), "model.SaveTransformer: this is a "+f.String()+" view")
			assert.Nil(t, v.DropoutRNG(), "no training state: checkpoint.Save refuses it as a frozen view")
			_, err = v.Compact(Float32)
			assert.Error(t, err)
		})
	}
	_, err = m.Compact(WeightFormat(9))
	assert.EqualError(t, err, "model.Compact: unknown weight format 9")
	f, err := m.Compact(Float32)
	require.NoError(t, err)
	assert.NotNil(t, f.TgtEmbed.Weight, "Compact(Float32) is Frozen")
}

// roundByHand rounds the rows (of k values) of w as format f holds them.
func roundByHand(w []float32, k int, f WeightFormat) {
	for r := 0; r < len(w); r += k {
		row, top := w[r:r+k], 0.0
		for _, x := range row {
			top = max(top, math.Abs(float64(x)))
		}
		s := float64(float32(top / 127))
		for i, x := range row {
			if f == BFloat16 {
				b := math.Float32bits(x)
				row[i] = math.Float32frombits((b + 0x7fff + (b>>16)&1) >> 16 << 16)
			} else if top > 0 {
				row[i] = float32(math.Round(float64(x)/s) * s)
			}
		}
	}
}
