package model

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tokenizer"
)

// How far a compact view may move the logits of the Hugging Face fixture: 8·ε·max|logit|, with ε
// the format's largest rounding of a weight relative to the largest weight of its row (bf16:
// 2⁻⁸ of the weight itself, so at most that; int8: half a step, 1/254 of the row's largest).
// Every logit passes through nine rounded matrices (four per layer and the head), each adding
// at most about ε of its output's scale when the roundings line up, and they may add up across
// matrices: 8ε covers that with room. A wrong row, scale or lane errs by the size of the logits
// themselves, about 30 times more.
var compactLogitSlack = map[WeightFormat]float64{BFloat16: 8 * 0x1p-8, Int8: 8.0 / 254}

// TestCompactHFFixture compares the compact views of the Hugging Face fixture (a random GPT-2,
// 2 layers, 32 wide, the real 50257-token vocabulary) with PyTorch's float32 logits, and their
// choices with goformer's float32 ones.
func TestCompactHFFixture(t *testing.T) {
	dir := fixture.HFDir(t)
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	require.NoError(t, err)
	defer ref.Close()
	m, err := LoadHF(dir)
	require.NoError(t, err)
	ids64, shape, err := ref.Int64("input_ids")
	require.NoError(t, err)
	require.Len(t, shape, 2)
	b, tt := shape[0], shape[1]
	ids := ints(ids64)
	wantT, err := ref.Float32("logits")
	require.NoError(t, err)
	want := wantT.Data()
	prompt64, _, err := ref.Int64("greedy.prompt")
	require.NoError(t, err)
	greedy64, _, err := ref.Int64("greedy.output")
	require.NoError(t, err)
	prompt, greedy := ints(prompt64), ints(greedy64)[len(prompt64):]

	v := m.Config.VocabSize
	plainOut, err := m.Frozen().Forward(ids, b, tt)
	require.NoError(t, err)
	plain := plainOut.Value.Data()
	scale := 0.0
	for _, x := range want {
		scale = max(scale, math.Abs(float64(x)))
	}
	for _, f := range []WeightFormat{BFloat16, Int8} {
		t.Run(f.String(), func(t *testing.T) {
			c, err := m.Compact(f)
			require.NoError(t, err)
			out, err := c.Forward(ids, b, tt)
			require.NoError(t, err)
			got := out.Value.Data()
			require.Len(t, got, len(want))
			worst := 0.0
			for i := range want {
				worst = max(worst, math.Abs(float64(got[i])-float64(want[i])))
			}
			tol := compactLogitSlack[f] * scale
			t.Logf("logits: max abs error %.3g against PyTorch's (tolerance %.3g; max |logit| %.3g)", worst, tol, scale)
			assert.LessOrEqual(t, worst, tol, "logits")

			// Top-1 agreement with float32 at the teacher-forced positions. Where float32's margin
			// between its two best tokens exceeds twice the largest logit error, the choice
			// cannot change; elsewhere a random model's near-ties may flip.
			agree, safe := 0, 0
			for p := range b * tt {
				row, prow := got[p*v:(p+1)*v], plain[p*v:(p+1)*v]
				same := argmax(row) == argmax(prow)
				if same {
					agree++
				}
				if margin(prow) > 2*worst {
					safe++
					assert.True(t, same, "position %d: float32's margin %.3g exceeds twice the error, yet the choice changed", p, margin(prow))
				}
			}
			toks, err := c.GenerateAll(context.Background(), prompt, Sampling{MaxNew: len(greedy)})
			require.NoError(t, err)
			same := countEqual(toks, greedy)
			t.Logf("top-1 agreement with float32: %d/%d teacher-forced positions (%d with a margin that guarantees it), greedy tokens equal to the fixture's: %d/%d",
				agree, b*tt, safe, same, len(greedy))
			// A floor, not the measurement (all agree here): a random tiny model's margins are
			// small, and at 90% a systematic error (a wrong token row) still cannot pass.
			assert.GreaterOrEqual(t, float64(agree+same), 0.9*float64(b*tt+len(greedy)), "top-1 agreement")
		})
	}
}

// margin returns the gap between the two largest values of x.
func margin(x []float32) float64 {
	a, b := math.Inf(-1), math.Inf(-1)
	for _, v := range x {
		switch f := float64(v); {
		case f > a:
			a, b = f, a
		case f > b:
			b = f
		}
	}
	return a - b
}

// TestCompactTrainedModelLoss trains nanoGPT's CPU config on tiny Shakespeare for a few seconds
// and checks how much a compact view moves the validation loss: weights that have learnt
// something are where rounding would show.
func TestCompactTrainedModelLoss(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("trains a model for a few seconds")
	}
	text, err := os.ReadFile(filepath.Join("..", "examples", "shakespeare", "input.txt"))
	require.NoError(t, err, "the corpus the shakespeare example embeds")
	tok := tokenizer.NewChar(string(text))
	data := tok.Encode(string(text))
	split := len(data) * 9 / 10
	train, val := data[:split], data[split:]
	cfg := Config{VocabSize: tok.VocabSize(), BlockSize: 64, NLayer: 4, NHead: 4, NEmbd: 128}
	m, err := New(cfg, 1337)
	require.NoError(t, err)
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 2e-3, Betas: [2]float32{0.9, 0.99}, WeightDecay: 0.1})
	const batch, iters = 12, 100
	rng := rand.New(rand.NewPCG(5, 6))
	window := func(src []int) (x, y []int) {
		x, y = make([]int, batch*cfg.BlockSize), make([]int, batch*cfg.BlockSize)
		for r := range batch {
			i := rng.IntN(len(src) - cfg.BlockSize - 1)
			copy(x[r*cfg.BlockSize:], src[i:i+cfg.BlockSize])
			copy(y[r*cfg.BlockSize:], src[i+1:i+1+cfg.BlockSize])
		}
		return x, y
	}
	start := time.Now()
	for range iters {
		x, y := window(train)
		loss, err := m.Loss(x, y, batch, cfg.BlockSize)
		require.NoError(t, err)
		loss.Backward()
		optim.ClipGradNorm(m.Parameters(), 1)
		opt.Step()
		opt.ZeroGrad()
		autograd.Release(loss)
	}
	trained := time.Since(start)
	var evalX, evalY [][]int
	for range 16 {
		x, y := window(val)
		evalX, evalY = append(evalX, x), append(evalY, y)
	}
	valLoss := func(v *GPT) float64 {
		sum := 0.0
		for i := range evalX {
			l, err := v.Loss(evalX[i], evalY[i], batch, cfg.BlockSize)
			require.NoError(t, err)
			sum += float64(l.Item())
		}
		return sum / float64(len(evalX))
	}
	base := valLoss(m.Frozen())
	t.Logf("trained %d iterations in %v: validation loss %.4f (float32)", iters, trained.Round(time.Millisecond), base)
	require.Less(t, base, 2.8, "the model should have learnt something (a uniform guess is ln 65 = 4.17)")
	for _, c := range []struct {
		f     WeightFormat
		bound float64
	}{{BFloat16, 0.002}, {Int8, 0.005}} {
		view, err := m.Compact(c.f)
		require.NoError(t, err)
		l := valLoss(view)
		t.Logf("%-5v validation loss %.4f, change %+.5f (bound %g)", c.f, l, l-base, c.bound)
		assert.Less(t, math.Abs(l-base), c.bound, "%v", c.f)
	}
	// The same windows cut into sequences of 32 tokens, one at a time: products of at most 32 rows,
	// as in decoding, where int8 weights multiply int8-quantised activations on CPUs with
	// AVX512-VNNI (gemm.MulCompactT) rather than float32 ones.
	const short = 32
	thinLoss := func(v *GPT) float64 {
		sum, count := 0.0, 0
		for i := range evalX[:6] { // 72 windows: enough to see 0.002, and cheap without assembly
			for s := 0; s+short <= len(evalX[i]); s += cfg.BlockSize {
				l, err := v.Loss(evalX[i][s:s+short], evalY[i][s:s+short], 1, short)
				require.NoError(t, err)
				sum += float64(l.Item())
				count++
			}
		}
		return sum / float64(count)
	}
	thinBase := thinLoss(m.Frozen())
	for _, c := range []struct {
		f     WeightFormat
		bound float64
	}{{BFloat16, 0.002}, {Int8, 0.002}} {
		view, err := m.Compact(c.f)
		require.NoError(t, err)
		l := thinLoss(view)
		t.Logf("%-5v validation loss in 32-row products %.4f, float32 %.4f, change %+.5f (bound %g)", c.f, l, thinBase, l-thinBase, c.bound)
		assert.Less(t, math.Abs(l-thinBase), c.bound, "%v in thin products", c.f)
	}
}
