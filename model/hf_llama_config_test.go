package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureDir returns one of the Llama-family fixtures beside the repository, skipping without it.
func fixtureDir(t *testing.T, name string) string {
	return fixture.Path(t, "", "testdata/"+name)
}

// The fixtures' config.json against the values their READMEs state.
func TestParseHFLlamaFixtureConfigs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureDir(t, "hf-llama-tiny"), "config.json"))
	require.NoError(t, err)
	cfg, meta, err := parseHFConfig(data)
	require.NoError(t, err)
	assert.Equal(t, Config{
		VocabSize: 97, BlockSize: 64, NLayer: 2, NHead: 4, NEmbd: 64, NoBias: true, LayerNormEps: 1e-5,
		Positions: PositionsRotary, RopeTheta: 10000, Norm: NormRMSNorm, FeedForward: FeedForwardSwiGLU,
		FFHidden: 160, NKVHead: 2,
	}, cfg)
	assert.Equal(t, 16, cfg.headDim())
	assert.Equal(t, "LlamaForCausalLM", meta.arch)
	require.NotNil(t, meta.bos)
	assert.Equal(t, 1, *meta.bos)
	assert.Equal(t, []int{2}, meta.eos)

	data, err = os.ReadFile(filepath.Join(fixtureDir(t, "hf-qwen3-tiny"), "config.json"))
	require.NoError(t, err)
	cfg, meta, err = parseHFConfig(data)
	require.NoError(t, err)
	assert.Equal(t, Config{
		VocabSize: 89, BlockSize: 64, NLayer: 2, NHead: 4, NEmbd: 48, NoBias: true, LayerNormEps: 1e-6,
		Positions: PositionsRotary, RopeTheta: 1e6, Norm: NormRMSNorm, FeedForward: FeedForwardSwiGLU,
		FFHidden: 128, NKVHead: 2, HeadDim: 24, QKNorm: true,
	}, cfg)
	assert.Equal(t, "Qwen3ForCausalLM", meta.arch)
}

// llamaConfigJSON is a LlamaConfig with edits.
func llamaConfigJSON(t *testing.T, edit func(c map[string]any)) []byte {
	c := map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "model_type": "llama", "vocab_size": 50,
		"hidden_size": 32, "intermediate_size": 80, "num_hidden_layers": 2, "num_attention_heads": 4,
		"num_key_value_heads": 2, "hidden_act": "silu", "max_position_embeddings": 128,
		"rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": nil, "tie_word_embeddings": true,
		"bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16",
	}
	edit(c)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return b
}

func TestParseHFLlamaConfigVariants(t *testing.T) {
	parse := func(edit func(c map[string]any)) (Config, hfMeta, error) {
		return parseHFConfig(llamaConfigJSON(t, edit))
	}
	cfg, _, err := parse(func(c map[string]any) {
		c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
		c["rope_theta"] = 500000.0
		c["eos_token_id"] = []int{2, 3, 4}
		c["attention_bias"], c["mlp_bias"] = true, true
		c["tie_word_embeddings"] = false
	})
	require.NoError(t, err)
	assert.Equal(t, nn.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 64}, cfg.RopeScaling)
	assert.Equal(t, 500000.0, cfg.RopeTheta)
	assert.True(t, cfg.QKVBias && cfg.OutBias && cfg.FFBias && cfg.UntiedHead)

	// transformers 5 writes rope_parameters instead of rope_theta and rope_scaling.
	cfg, _, err = parse(func(c map[string]any) {
		delete(c, "rope_theta")
		delete(c, "rope_scaling")
		c["rope_parameters"] = map[string]any{"rope_type": "linear", "factor": 2.0, "rope_theta": 1e5}
	})
	require.NoError(t, err)
	assert.Equal(t, nn.RopeScaling{Type: "linear", Factor: 2}, cfg.RopeScaling)
	assert.Equal(t, 1e5, cfg.RopeTheta)

	// Absent fields take the class's defaults: untied, eps 1e-6, as many KV heads as heads.
	cfg, _, err = parse(func(c map[string]any) {
		for _, k := range []string{"num_key_value_heads", "rms_norm_eps", "tie_word_embeddings", "rope_theta", "hidden_act"} {
			delete(c, k)
		}
	})
	require.NoError(t, err)
	assert.True(t, cfg.UntiedHead)
	assert.Equal(t, float32(1e-6), cfg.LayerNormEps)
	assert.Equal(t, 4, cfg.nKVHead())
	assert.Equal(t, float64(defaultRopeTheta), cfg.ropeTheta())

	// Qwen2: biases on q, k and v, not o.
	cfg, meta, err := parse(func(c map[string]any) {
		c["model_type"], c["architectures"] = "qwen2", []string{"Qwen2ForCausalLM"}
		c["use_sliding_window"], c["sliding_window"], c["max_window_layers"] = false, 32, 2
	})
	require.NoError(t, err)
	assert.True(t, cfg.QKVBias)
	assert.False(t, cfg.OutBias || cfg.FFBias || cfg.QKNorm)
	assert.Equal(t, "Qwen2ForCausalLM", meta.arch)

	// Mistral: a window as long as the context never matters; null is none.
	for _, w := range []any{nil, 128, 4096} {
		_, _, err = parse(func(c map[string]any) {
			c["model_type"], c["architectures"], c["sliding_window"] = "mistral", []string{"MistralForCausalLM"}, w
		})
		assert.NoError(t, err, "window %v", w)
	}
	// Qwen3's head_dim defaults to 128 when absent.
	cfg, _, err = parse(func(c map[string]any) {
		c["model_type"], c["architectures"] = "qwen3", []string{"Qwen3ForCausalLM"}
	})
	require.NoError(t, err)
	assert.Equal(t, 128, cfg.HeadDim)
	assert.True(t, cfg.QKNorm)
}

func TestParseHFLlamaConfigRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(c map[string]any)
		want string
	}{
		{"activation", func(c map[string]any) { c["hidden_act"] = "gelu" }, `hidden_act "gelu"`},
		{"missing width", func(c map[string]any) { delete(c, "hidden_size") }, `missing "hidden_size"`},
		{"missing intermediate", func(c map[string]any) { delete(c, "intermediate_size") }, "intermediate_size"},
		{"negative heads", func(c map[string]any) { c["num_attention_heads"] = -4 }, "num_attention_heads must be positive"},
		{"kv heads", func(c map[string]any) { c["num_key_value_heads"] = 3 }, "not a multiple of NKVHead 3"},
		{"odd head", func(c map[string]any) { c["head_dim"] = 7 }, "even head width"},
		{"huge", func(c map[string]any) { c["num_hidden_layers"] = 1 << 40 }, "more than"},
		{"huge context", func(c map[string]any) { c["max_position_embeddings"] = 1 << 40 }, "rotary tables"},
		{"yarn", func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4.0} }, `"yarn"`},
		{"llama3 incomplete", func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0} }, "low_freq_factor"},
		{"theta", func(c map[string]any) { c["rope_theta"] = -1.0 }, "rope_theta"},
		{"quantized", func(c map[string]any) { c["quantization_config"] = map[string]any{"bits": 4} }, "quantization_config"},
		{"dtype", func(c map[string]any) { c["torch_dtype"] = "int8" }, `dtype "int8"`},
		{"eos", func(c map[string]any) { c["eos_token_id"] = "two" }, "eos_token_id"},
		{"eos outside", func(c map[string]any) { c["eos_token_id"] = []int{2, 50} }, "special token id 50"},
		{"architecture", func(c map[string]any) { c["architectures"] = []string{"LlamaForSequenceClassification"} }, "LlamaForSequenceClassification"},
		{"mistral window", func(c map[string]any) {
			c["model_type"], c["architectures"], c["sliding_window"] = "mistral", []string{"MistralForCausalLM"}, 64
		}, "sliding_window 64"},
		{"mistral default window", func(c map[string]any) {
			c["model_type"], c["architectures"], c["max_position_embeddings"] = "mistral", []string{"MistralForCausalLM"}, 8192
		}, "sliding_window 4096"},
		{"qwen2 window", func(c map[string]any) {
			c["model_type"], c["architectures"] = "qwen2", []string{"Qwen2ForCausalLM"}
			c["use_sliding_window"], c["sliding_window"], c["max_window_layers"] = true, 32, 1
		}, "sliding_window 32"},
		{"layer types", func(c map[string]any) {
			c["model_type"], c["architectures"] = "qwen3", []string{"Qwen3ForCausalLM"}
			c["layer_types"], c["sliding_window"] = []string{"full_attention", "sliding_attention"}, 16
		}, "sliding_window 16"},
		{"mlp bias on qwen2", func(c map[string]any) {
			c["model_type"], c["architectures"], c["mlp_bias"] = "qwen2", []string{"Qwen2ForCausalLM"}, true
		}, "mlp_bias"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHFConfig(llamaConfigJSON(t, c.edit))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// Each member's config.json as SaveHF writes it parses back to the same Config and names.
func TestHFLlamaConfigJSONRoundTrip(t *testing.T) {
	base := Config{VocabSize: 50, BlockSize: 128, NLayer: 2, NHead: 4, NEmbd: 32, NoBias: true, LayerNormEps: 1e-6,
		Positions: PositionsRotary, RopeTheta: 10000, Norm: NormRMSNorm, FeedForward: FeedForwardSwiGLU, FFHidden: 80, NKVHead: 2,
		UntiedHead: true}
	bos := 1
	cases := []struct {
		arch string
		edit func(c *Config)
		meta hfMeta
	}{
		{"LlamaForCausalLM", func(c *Config) {}, hfMeta{bos: &bos, eos: []int{2, 3}, eosList: true}},
		{"LlamaForCausalLM", func(c *Config) {
			c.QKVBias, c.OutBias, c.FFBias, c.UntiedHead, c.Dropout = true, true, true, false, 0.1
			c.RopeScaling = nn.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 64}
		}, hfMeta{eos: []int{2}}},
		{"Qwen2ForCausalLM", func(c *Config) { c.QKVBias = true }, hfMeta{}},
		{"Qwen3ForCausalLM", func(c *Config) { c.QKNorm, c.HeadDim, c.RopeTheta = true, 24, 1e6 }, hfMeta{}},
		{"MistralForCausalLM", func(c *Config) { c.RopeScaling = nn.RopeScaling{Type: "linear", Factor: 2} }, hfMeta{arch: "MistralForCausalLM"}},
	}
	for _, c := range cases {
		t.Run(c.arch, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			require.NoError(t, cfg.Validate())
			data, err := hfLlamaConfigJSON(cfg, c.meta)
			require.NoError(t, err)
			back, meta, err := parseHFConfig(data)
			require.NoError(t, err, "%s", data)
			assert.Equal(t, cfg, back, "%s", data)
			assert.Equal(t, c.arch, meta.arch)
			assert.Equal(t, c.meta.bos, meta.bos)
			assert.Equal(t, c.meta.eos, meta.eos)
		})
	}
	_, err := hfLlamaConfigJSON(Config{QKNorm: true, QKVBias: true, NoBias: true}, hfMeta{})
	assert.ErrorContains(t, err, "no Hugging Face config class")
}
