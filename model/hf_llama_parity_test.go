package model

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/safetensors"
)

// Tolerances of the Llama-family parity test: those of GPT-2's (parityAtol, parityRtol for
// logits, loss and the weights after AdamW; parityGradAtol, parityGradRtol for gradients), for
// the same reasons. The reference is float32 PyTorch on a CPU; this library computes the same
// float32 math with other summation orders, the rotary tables in float64 rounded once (PyTorch
// rounds the angle p·θᵢ to float32 first, a difference below 1e-5 rad at these positions), and
// the RMSNorm mean of squares in float64. The errors logged are 10-100× below the tolerance; a
// real bug (a wrong pairing of rotary elements, KV head grouping, eps, QK-norm placement or
// SwiGLU order) moves logits by 1e-2 or more.

// TestHFLlamaParity loads each Llama-family fixture (GOFORMER_LLAMA_FIXTURE, else hf-llama-tiny
// and hf-qwen3-tiny) and compares with what transformers computed for it: logits, loss, every
// parameter's gradient, three AdamW steps and the greedy tokens. Everything about a fixture
// (architecture, sizes, heads, tying, biases, rope theta and scaling) comes from its files.
func TestHFLlamaParity(t *testing.T) {
	for _, dir := range fixture.LlamaDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) { llamaParity(t, dir) })
	}
}

func llamaParity(t *testing.T, dir string) {
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	require.NoError(t, err)
	defer ref.Close()
	f32 := func(name string) []float32 {
		t.Helper()
		v, err := ref.Float32(name)
		require.NoError(t, err, name)
		return v.Data()
	}

	m, err := LoadHF(dir)
	require.NoError(t, err)
	cfg := m.Config
	t.Logf("config from config.json (%s): %+v", m.hf.arch, cfg)

	ids64, idShape, err := ref.Int64("input_ids")
	require.NoError(t, err)
	require.Len(t, idShape, 2)
	b, tt := idShape[0], idShape[1]
	ids := ints(ids64)
	targets := hfNext(ids, b, tt)

	t.Run("logits", func(t *testing.T) {
		require.Equal(t, []int{b, tt, cfg.VocabSize}, ref.Shape("logits"))
		logits, err := m.Frozen().Forward(ids, b, tt)
		require.NoError(t, err)
		assert.Equal(t, []int{b, tt, cfg.VocabSize}, logits.Shape())
		assertClose(t, "logits", logits.Value.Contiguous().Data(), f32("logits"), parityAtol, parityRtol)
	})

	t.Run("loss and gradients", func(t *testing.T) {
		zeroGrad(m)
		loss, err := m.Loss(ids, targets, b, tt)
		require.NoError(t, err)
		assertClose(t, "loss", []float32{loss.Item()}, f32("loss"), parityAtol, parityRtol)
		loss.Backward()
		params := m.Parameters()
		for _, p := range params {
			name := "grad." + p.Name()
			require.True(t, ref.Has(name), "the reference has no %s", name)
			require.NotNil(t, p.Grad(), p.Name())
			require.Equal(t, ref.Shape(name), p.Shape(), name)
			assertClose(t, name, p.Grad().Contiguous().Data(), f32(name), parityGradAtol, parityGradRtol)
		}
		n := 0
		for _, name := range ref.Names() {
			if len(name) > 5 && name[:5] == "grad." {
				n++
			}
		}
		assert.Equal(t, n, len(params), "one parameter for each gradient of the reference")
		zeroGrad(m)
	})

	t.Run("adamw", func(t *testing.T) {
		m, err := LoadHF(dir) // fresh weights
		require.NoError(t, err)
		want := f32("adamw.losses")
		opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{
			LR: 1e-3, Betas: [2]float32{0.9, 0.95}, Eps: 1e-8, WeightDecay: 0.1,
			Decay: optim.DecayMatrices,
		})
		var got []float32
		for range want {
			loss, err := m.Loss(ids, targets, b, tt)
			require.NoError(t, err)
			got = append(got, loss.Item())
			loss.Backward()
			optim.ClipGradNorm(m.Parameters(), 1.0)
			opt.Step()
			opt.ZeroGrad()
		}
		assertClose(t, "adamw.losses", got, want, parityAtol, parityRtol)
		n := 0
		for _, p := range m.Parameters() {
			name := "adamw.after." + p.Name()
			if !ref.Has(name) {
				continue
			}
			n++
			assertClose(t, name, p.Value.Contiguous().Data(), f32(name), parityAtol, parityRtol)
		}
		assert.Positive(t, n, "the reference should hold some parameters after the AdamW steps")
	})

	t.Run("greedy", func(t *testing.T) {
		prompt64, _, err := ref.Int64("greedy.prompt")
		require.NoError(t, err)
		want64, wantShape, err := ref.Int64("greedy.output")
		require.NoError(t, err)
		prompt, want := ints(prompt64), ints(want64)
		newTokens, err := m.GenerateAll(context.Background(), prompt, Sampling{MaxNew: wantShape[1] - len(prompt)})
		require.NoError(t, err)
		assert.Equal(t, want, append(prompt, newTokens...))
		t.Logf("greedy: %d of %d tokens equal", countEqual(want, append(prompt, newTokens...)), len(want))
	})
}

// TestHFLlamaParityOtherMembers runs the same comparison on the family members that
// testdata/make_llama_variants.py wrote with PyTorch from the fixtures' README: a Llama with
// Llama 3.1's rope scaling, attention and MLP biases, one KV head and an untied head, and a Qwen2
// (q/k/v biases). The test's code knows nothing of either: it is TestHFLlamaParity on other
// directories.
func TestHFLlamaParityOtherMembers(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "hf-llama-variants", "*"))
	require.NoError(t, err)
	require.Len(t, dirs, 2)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { llamaParity(t, dir) })
	}
}
