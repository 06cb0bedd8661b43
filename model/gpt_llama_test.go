package model

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/safetensors"
)

// llamaTestConfig is a small Llama-family config with every choice that differs from GPT-2: RMSNorm,
// rotary positions with llama3 scaling, SwiGLU, 2 KV heads for 4 query heads, a head width that
// is not C/NH, QK-norm, attention biases and an untied head (Qwen3's class can hold all of it).
var llamaTestConfig = Config{
	VocabSize: 61, BlockSize: 24, NLayer: 2, NHead: 4, NEmbd: 32, NoBias: true, LayerNormEps: 1e-6,
	Positions: PositionsRotary, RopeTheta: 5000, Norm: NormRMSNorm, FeedForward: FeedForwardSwiGLU,
	FFHidden: 48, NKVHead: 2, HeadDim: 12, QKNorm: true, QKVBias: true, OutBias: true, UntiedHead: true,
	RopeScaling: nn.RopeScaling{Type: nn.RopeScalingLlama3, Factor: 4, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 16},
}

// The parameters of a fixture's config, as build describes them, are the ones transformers lists
// for it (reference.json's param_names), in the same order.
func TestLlamaParamNamesAreTransformers(t *testing.T) {
	for _, dir := range fixture.LlamaDirs(t) {
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		require.NoError(t, err)
		cfg, err := ParseHFConfig(data)
		require.NoError(t, err)
		var ref struct {
			ParamNames []string `json:"param_names"`
		}
		data, err = os.ReadFile(filepath.Join(dir, "reference.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &ref))
		var names []string
		for _, s := range specs(cfg) {
			names = append(names, s.Name)
		}
		assert.Equal(t, ref.ParamNames, names, dir)
	}
	var names []string
	for _, s := range specs(llamaTestConfig) {
		names = append(names, s.Name)
	}
	assert.Contains(t, names, "lm_head.weight")
	assert.Contains(t, names, "model.layers.1.self_attn.k_proj.bias")
	assert.Contains(t, names, "model.layers.1.self_attn.o_proj.bias")
	assert.NotContains(t, names, "model.layers.1.mlp.up_proj.bias")
	assert.Equal(t, paramCount(llamaTestConfig), float64(mustNew(t, llamaTestConfig).NumParams()))
}

func mustNew(t *testing.T, cfg Config) *GPT {
	t.Helper()
	m, err := New(cfg, 3)
	require.NoError(t, err)
	return m
}

// Decoding with the KV cache (keys rotated at their own positions, grouped heads) gives what the
// full forward pass gives; batched decoding of prompts of different lengths gives what one prompt
// at a time gives, also past the context, where the window slides.
func TestLlamaDecodeMatchesFullForward(t *testing.T) {
	// GPT-2's layout with two of the family's choices (GPT-2's names, a fused c_attn holding
	// 4 query and 2 KV heads) runs the same way; no Hugging Face layout holds it.
	mixed := Config{VocabSize: 61, BlockSize: 24, NLayer: 2, NHead: 4, NEmbd: 32, Positions: PositionsRotary, NKVHead: 2}
	m := mustNew(t, mixed)
	assert.Equal(t, []int{(4 + 2*2) * 8, 32}, m.H[0].Attn.QKV.Weight.Shape())
	assert.ErrorContains(t, SaveHF(m, t.TempDir()), "no Hugging Face layout holds this mix")
	checkDecode(t, m)
	checkDecode(t, mustNew(t, llamaTestConfig))
}

func checkDecode(t *testing.T, m *GPT) {
	ctx := context.Background()
	long := make([]int, 30)
	for i := range long {
		long[i] = (i * 5) % m.Config.VocabSize
	}
	prompts := [][]int{{1}, {5, 6, 7}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11}, long}
	for _, s := range []Sampling{{MaxNew: 15}, {MaxNew: 10, Temperature: 0.9, TopK: 20, Seed: 7}} {
		batch, err := m.GenerateBatch(ctx, prompts, s)
		require.NoError(t, err)
		for r, p := range prompts {
			cached, err := m.GenerateAll(ctx, p, s)
			require.NoError(t, err)
			var full []int
			for tok, err := range m.generate(ctx, p, s, false) {
				require.NoError(t, err)
				full = append(full, tok)
			}
			assert.Equal(t, full, cached, "%+v prompt %d: cached against full", s, r)
			assert.Equal(t, cached, batch[r], "%+v prompt %d: batched against one", s, r)
		}
	}
	// Greedy's first token is the argmax of the last logits of the full forward pass.
	p := prompts[2]
	out, err := m.Frozen().Forward(p, 1, len(p))
	require.NoError(t, err)
	first, err := m.GenerateAll(ctx, p, Sampling{MaxNew: 1})
	require.NoError(t, err)
	assert.Equal(t, argmax(out.Value.Values()[(len(p)-1)*m.Config.VocabSize:]), first[0])
}

// Frozen shares the weights, Snapshot copies them; Compact's bf16 and int8 views compute close
// to float32; Inspect shows the query heads' weights, grouped by the KV head they read.
func TestLlamaViews(t *testing.T) {
	m := mustNew(t, llamaTestConfig)
	ids := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	targets := append(slices.Clone(ids[1:]), IgnoreIndex)
	logits := func(v *GPT) []float32 {
		out, err := v.Forward(ids, 1, len(ids))
		require.NoError(t, err)
		return out.Value.Contiguous().Data()
	}
	f, snap := m.Frozen(), m.Snapshot()
	want := logits(m)
	assert.Equal(t, want, logits(f))
	assert.Equal(t, want, logits(snap))

	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2, Decay: optim.DecayMatrices})
	loss, err := m.Loss(ids, targets, 1, len(ids))
	require.NoError(t, err)
	loss.Backward()
	opt.Step()
	trained := logits(m)
	assert.NotEqual(t, want, trained)
	assert.Equal(t, trained, logits(f), "the frozen view shares the weights")
	assert.Equal(t, want, logits(snap), "the snapshot keeps its own")

	for _, c := range []struct {
		f   WeightFormat
		tol float64
	}{{BFloat16, 0.05}, {Int8, 0.05}} {
		v, err := m.Compact(c.f)
		require.NoError(t, err)
		got := logits(v)
		worst := 0.0
		for i := range got {
			worst = max(worst, float64(abs32(got[i]-trained[i])))
		}
		t.Logf("%v: max abs logit error %.3g", c.f, worst)
		assert.Less(t, worst, c.tol, c.f)
		_, err = v.GenerateAll(context.Background(), ids, Sampling{MaxNew: 5})
		require.NoError(t, err)
	}

	in, err := m.Inspect(ids)
	require.NoError(t, err)
	require.Len(t, in.Attention, llamaTestConfig.NLayer)
	require.Len(t, in.Attention[0], llamaTestConfig.NHead)
	assert.Equal(t, []int{0, 0, 1, 1}, in.KVHead)
	for _, row := range in.Attention[1][3] {
		s := float32(0)
		for _, w := range row {
			s += w
		}
		assert.InDelta(t, 1, s, 1e-5)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// A model trained here and exported loads back bit for bit, in the Hub's layout: config.json and
// model.safetensors with transformers' names (the same as the fixture's), F32, the head stored
// only when untied.
func TestLlamaExportRoundTrip(t *testing.T) {
	// NoBias false: every projection has a bias, which Llama's class holds as attention_bias and
	// mlp_bias (and LoadHF reads back as NoBias with each bias put back: the same model).
	allBiases := llamaTestConfig
	allBiases.NoBias, allBiases.QKVBias, allBiases.OutBias, allBiases.QKNorm = false, false, false, false
	readBack := allBiases
	readBack.NoBias, readBack.QKVBias, readBack.OutBias, readBack.FFBias = true, true, true, true
	tied := llamaTestConfig
	tied.UntiedHead = false
	for _, c := range []struct {
		cfg, back Config
		arch      string
	}{
		{llamaTestConfig, llamaTestConfig, "Qwen3ForCausalLM"}, // QK-norm is Qwen3's
		{tied, tied, "Qwen3ForCausalLM"},
		{allBiases, readBack, "LlamaForCausalLM"},
	} {
		m := mustNew(t, c.cfg)
		ids := []int{3, 1, 4, 1, 5, 9, 2, 6}
		targets := append(slices.Clone(ids[1:]), IgnoreIndex)
		opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2, Decay: optim.DecayMatrices})
		for range 2 {
			loss, err := m.Loss(ids, targets, 1, len(ids))
			require.NoError(t, err)
			loss.Backward()
			opt.Step()
			opt.ZeroGrad()
		}
		dir := t.TempDir()
		require.NoError(t, SaveHF(m, dir))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var files []string
		for _, e := range entries {
			files = append(files, e.Name())
		}
		assert.Equal(t, []string{"config.json", "model.safetensors"}, files)

		st, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
		require.NoError(t, err)
		names := st.Names()
		for _, n := range names {
			assert.Equal(t, "F32", st.Dtype(n), n)
		}
		st.Close()
		assert.Equal(t, c.cfg.UntiedHead, slices.Contains(names, "lm_head.weight"))
		assert.Equal(t, c.cfg.QKNorm, slices.Contains(names, "model.layers.0.self_attn.q_norm.weight"))
		assert.Equal(t, c.cfg.ffBias(), slices.Contains(names, "model.layers.1.mlp.down_proj.bias"))
		assert.Contains(t, names, "model.norm.weight")

		back, err := LoadHF(dir)
		require.NoError(t, err)
		assert.Equal(t, c.back, back.Config)
		assert.Equal(t, c.arch, back.hf.arch)
		bp := back.Parameters()
		require.Len(t, bp, len(m.Parameters()))
		for i, p := range m.Parameters() {
			assert.Equal(t, p.Name(), bp[i].Name())
			assert.Equal(t, p.Value.Data(), bp[i].Value.Data(), p.Name())
		}
	}
}

// The fixtures load from bf16 weights in shards with an index as from their float32 file, each
// weight rounded to bf16; and SaveHF writes a fixture back with the same names, shapes and bytes,
// and a config.json with the same values.
func TestLlamaFixtureBF16ShardsAndExport(t *testing.T) {
	for _, dir := range fixture.LlamaDirs(t) {
		m, err := LoadHF(dir)
		require.NoError(t, err)
		tensors, err := hfLlamaTensors(m)
		require.NoError(t, err)

		sharded := t.TempDir()
		require.NoError(t, copyFile(filepath.Join(dir, "config.json"), filepath.Join(sharded, "config.json")))
		weightMap := map[string]string{}
		var names [2][]string
		var dtypes [2][]string
		var vals [2][][]float32
		var shapes [2][][]int
		i := 0
		for name, v := range tensors {
			k := i % 2
			i++
			file := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[k]
			weightMap[name] = file
			names[k], dtypes[k] = append(names[k], name), append(dtypes[k], "BF16")
			vals[k], shapes[k] = append(vals[k], v.Data()), append(shapes[k], v.Shape())
		}
		for k, file := range []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} {
			writeST(t, filepath.Join(sharded, file), names[k], dtypes[k], vals[k], shapes[k])
		}
		index, err := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(sharded, "model.safetensors.index.json"), index, 0o644))

		b16, err := LoadHF(sharded)
		require.NoError(t, err)
		for i, p := range b16.Parameters() {
			ref := m.Parameters()[i].Value.Data()
			got := p.Value.Data()
			for j := range got {
				// writeST truncates to bf16; the loader widens exactly.
				if got[j] != truncBF16(ref[j]) {
					t.Fatalf("%s[%d] = %v, want %v", p.Name(), j, got[j], truncBF16(ref[j]))
				}
			}
		}

		out := t.TempDir()
		require.NoError(t, SaveHF(m, out))
		a, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
		require.NoError(t, err)
		b, err := safetensors.Open(filepath.Join(out, "model.safetensors"))
		require.NoError(t, err)
		assert.Equal(t, a.Names(), b.Names())
		for _, n := range a.Names() {
			va, err := a.Float32(n)
			require.NoError(t, err)
			vb, err := b.Float32(n)
			require.NoError(t, err)
			assert.Equal(t, va.Shape(), vb.Shape(), n)
			assert.Equal(t, va.Data(), vb.Data(), n)
		}
		a.Close()
		b.Close()
		var orig, written map[string]any
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &orig))
		data, err = os.ReadFile(filepath.Join(out, "config.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &written))
		for k, v := range written {
			if ov, ok := orig[k]; ok && k != "sliding_window" && k != "max_window_layers" {
				assert.Equal(t, ov, v, "config.json %s", k)
			}
		}
	}
}

func truncBF16(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ 0xffff)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// A Llama-family directory that does not match its config.json is an error naming what is wrong,
// found before any tensor is read.
func TestLoadHFLlamaBadInputs(t *testing.T) {
	m := mustNew(t, llamaTestConfig)
	good := t.TempDir()
	require.NoError(t, SaveHF(m, good))
	tensors, err := hfLlamaTensors(m)
	require.NoError(t, err)
	withTensors := func(edit func(names []string, vals map[string][]float32, shapes map[string][]int) []string) string {
		dir := t.TempDir()
		require.NoError(t, copyFile(filepath.Join(good, "config.json"), filepath.Join(dir, "config.json")))
		vals, shapes := map[string][]float32{}, map[string][]int{}
		var names []string
		for n, v := range tensors {
			names = append(names, n)
			vals[n], shapes[n] = v.Data(), v.Shape()
		}
		names = edit(names, vals, shapes)
		var dt []string
		var vs [][]float32
		var ss [][]int
		for _, n := range names {
			dt, vs, ss = append(dt, "F32"), append(vs, vals[n]), append(ss, shapes[n])
		}
		writeST(t, filepath.Join(dir, "model.safetensors"), names, dt, vs, ss)
		return dir
	}
	without := func(name string) string {
		return withTensors(func(names []string, _ map[string][]float32, _ map[string][]int) []string {
			return slices.DeleteFunc(names, func(n string) bool { return n == name })
		})
	}
	withConfig := func(edit func(c map[string]any)) string {
		dir := t.TempDir()
		data, err := os.ReadFile(filepath.Join(good, "config.json"))
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(data, &c))
		edit(c)
		data, err = json.Marshal(c)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644))
		require.NoError(t, copyFile(filepath.Join(good, "model.safetensors"), filepath.Join(dir, "model.safetensors")))
		return dir
	}
	cases := []struct{ name, dir, want string }{
		{"missing k_norm", without("model.layers.1.self_attn.k_norm.weight"), `missing tensor "model.layers.1.self_attn.k_norm.weight"`},
		{"missing head", without("lm_head.weight"), `missing tensor "lm_head.weight"`},
		{"transposed", withTensors(func(names []string, _ map[string][]float32, shapes map[string][]int) []string {
			s := shapes["model.layers.0.mlp.down_proj.weight"]
			shapes["model.layers.0.mlp.down_proj.weight"] = []int{s[1], s[0]}
			return names
		}), `"model.layers.0.mlp.down_proj.weight" has shape [48 32], want [32 48]`},
		{"extra", withTensors(func(names []string, vals map[string][]float32, shapes map[string][]int) []string {
			vals["model.layers.2.input_layernorm.weight"], shapes["model.layers.2.input_layernorm.weight"] = make([]float32, 32), []int{32}
			return append(names, "model.layers.2.input_layernorm.weight")
		}), `unexpected tensor "model.layers.2.input_layernorm.weight"`},
		{"tied but another head", withConfig(func(c map[string]any) { c["tie_word_embeddings"] = true }), "lm_head.weight differs from model.embed_tokens.weight"},
		{"fewer heads", withConfig(func(c map[string]any) { c["num_key_value_heads"] = 1 }), `"model.layers.0.self_attn.k_proj.weight" has shape [24 32], want [12 32]`},
		{"layers", withConfig(func(c map[string]any) { c["num_hidden_layers"] = 100 }), "num_hidden_layers 100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadHF(c.dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err = LoadHF(good)
	assert.NoError(t, err)
}

// What config.json says beyond the computation (the architecture, the special tokens) survives
// CropBlockSize and snapshots, and SaveHF writes it back.
func TestSaveHFKeepsArchitectureAndTokens(t *testing.T) {
	dir := filepath.Join("testdata", "hf-llama-variants", "llama3-biased")
	mistral := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(data, &c))
	c["model_type"], c["architectures"], c["sliding_window"] = "mistral", []string{"MistralForCausalLM"}, nil
	delete(c, "attention_bias")
	delete(c, "mlp_bias")
	data, err = json.Marshal(c)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mistral, "config.json"), data, 0o644))
	m, err := LoadHF(dir)
	require.NoError(t, err)
	tensors, err := hfLlamaTensors(m)
	require.NoError(t, err)
	var names []string
	var dtypes []string
	var vals [][]float32
	var shapes [][]int
	for n, v := range tensors {
		if strings.HasSuffix(n, ".bias") { // Mistral's class has no biases
			continue
		}
		names, dtypes, vals, shapes = append(names, n), append(dtypes, "F32"), append(vals, v.Data()), append(shapes, v.Shape())
	}
	writeST(t, filepath.Join(mistral, "model.safetensors"), names, dtypes, vals, shapes)

	for _, c := range []struct {
		dir, arch string
		eos       any
	}{{dir, "LlamaForCausalLM", []any{2.0, 3.0}}, {mistral, "MistralForCausalLM", []any{2.0, 3.0}}} {
		m, err := LoadHF(c.dir)
		require.NoError(t, err)
		require.NoError(t, m.CropBlockSize(32))
		out := t.TempDir()
		require.NoError(t, SaveHF(m.Snapshot(), out))
		data, err := os.ReadFile(filepath.Join(out, "config.json"))
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.Unmarshal(data, &got))
		assert.Equal(t, []any{c.arch}, got["architectures"])
		assert.Equal(t, c.eos, got["eos_token_id"])
		assert.Equal(t, 1.0, got["bos_token_id"])
		assert.Equal(t, 32.0, got["max_position_embeddings"])
	}
}
