package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/safetensors"
)

// Adapters saved in PEFT's layout load back onto the same base bit for bit, under the names
// PEFT gives them (the module path in transformers' model, under base_model.model.), with the
// config fields PEFT reads; the file holds the adapters only.
func TestLoRASaveLoadPEFT(t *testing.T) {
	for _, tc := range loraCases {
		t.Run(tc.name, func(t *testing.T) {
			base := mustNew(t, tc.cfg)
			l, err := base.WithLoRA(LoRAConfig{Rank: 2, Alpha: 8, Seed: 3})
			require.NoError(t, err)
			randomiseB(l)
			dir := t.TempDir()
			require.NoError(t, SaveLoRA(l, dir))

			var cfg map[string]any
			raw, err := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &cfg))
			assert.Equal(t, "LORA", cfg["peft_type"])
			assert.Equal(t, "CAUSAL_LM", cfg["task_type"])
			assert.Equal(t, 2.0, cfg["r"])
			assert.Equal(t, 8.0, cfg["lora_alpha"])
			assert.Equal(t, tc.name == "gpt2", cfg["fan_in_fan_out"], "GPT-2's Conv1D layers")
			st, err := safetensors.Open(filepath.Join(dir, "adapter_model.safetensors"))
			require.NoError(t, err)
			names := st.Names()
			st.Close()
			assert.Len(t, names, 2*tc.perBlock*tc.cfg.NLayer, "adapters only")
			prefix := "base_model.model."
			if tc.name == "gpt2" {
				prefix += "transformer."
			}
			assert.Contains(t, names, prefix+tc.first)

			back, err := LoadLoRA(base, dir)
			require.NoError(t, err)
			x, _ := loraBatch(tc.cfg.VocabSize)
			assert.Equal(t, loraLogits(t, l, x), loraLogits(t, back, x), "the loaded adapters compute what the saved ones did")
			assert.Equal(t, l.LoRA().Rank, back.LoRA().Rank)
		})
	}
}

// Only some layers adapted: the config lists them, and a load adapts those alone.
func TestLoRASaveLoadPEFTTargets(t *testing.T) {
	base := mustNew(t, llamaTestConfig)
	l, err := base.WithLoRA(LoRAConfig{Rank: 2, Targets: []string{"q_proj", "v_proj"}, Seed: 4})
	require.NoError(t, err)
	randomiseB(l)
	dir := t.TempDir()
	require.NoError(t, SaveLoRA(l, dir))
	back, err := LoadLoRA(base, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"q_proj", "v_proj"}, back.LoRA().Targets)
	assert.Len(t, back.Parameters(), 2*2*llamaTestConfig.NLayer)
	x, _ := loraBatch(llamaTestConfig.VocabSize)
	assert.Equal(t, loraLogits(t, l, x), loraLogits(t, back, x))
}

// Bad adapter directories are refused with the reason, and nothing is built from them.
func TestLoadLoRARefusals(t *testing.T) {
	base := mustNew(t, llamaTestConfig)
	l, err := base.WithLoRA(LoRAConfig{Rank: 2, Seed: 5})
	require.NoError(t, err)
	good := t.TempDir()
	require.NoError(t, SaveLoRA(l, good))
	rawCfg, err := os.ReadFile(filepath.Join(good, "adapter_config.json"))
	require.NoError(t, err)
	weights, err := os.ReadFile(filepath.Join(good, "adapter_model.safetensors"))
	require.NoError(t, err)
	withConfig := func(t *testing.T, edit func(map[string]any)) string {
		var cfg map[string]any
		require.NoError(t, json.Unmarshal(rawCfg, &cfg))
		edit(cfg)
		dir := t.TempDir()
		b, err := json.Marshal(cfg)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "adapter_config.json"), b, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), weights, 0o644))
		return dir
	}
	for _, c := range []struct {
		name, want string
		edit       func(map[string]any)
	}{
		{"rslora", "use_rslora", func(c map[string]any) { c["use_rslora"] = true }},
		{"dora", "use_dora", func(c map[string]any) { c["use_dora"] = true }},
		{"regex", "regular expression", func(c map[string]any) { c["target_modules"] = ".*proj" }},
		{"other type", "peft_type", func(c map[string]any) { c["peft_type"] = "IA3" }},
		{"bias", "bias", func(c map[string]any) { c["bias"] = "all" }},
		{"rank", "shape", func(c map[string]any) { c["r"] = 3 }},
		{"fewer targets", "unexpected tensor", func(c map[string]any) { c["target_modules"] = []string{"q_proj"} }},
		{"unknown target", "no layer matches", func(c map[string]any) { c["target_modules"] = []string{"wq"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadLoRA(base, withConfig(t, c.edit))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "adapter_config.json"), rawCfg, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), weights[:len(weights)/2], 0o644))
	_, err = LoadLoRA(base, dir)
	assert.Error(t, err, "a truncated weights file")
	assert.Error(t, SaveLoRA(base, t.TempDir()), "a model without adapters has none to save")
}
