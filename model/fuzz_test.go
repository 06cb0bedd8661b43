package model

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseHFConfig feeds arbitrary bytes to the config.json parser: an error or a valid Config,
// never a panic.
func FuzzParseHFConfig(f *testing.F) {
	f.Add([]byte(`{"model_type":"gpt2","vocab_size":50257,"n_positions":1024,"n_embd":768,"n_layer":12,"n_head":12}`))
	f.Add([]byte(`{"model_type":"gpt2","vocab_size":5,"n_ctx":4,"n_embd":6,"n_layer":1,"n_head":5,"layer_norm_epsilon":-1}`))
	f.Add([]byte(`{"model_type":"gpt2","activation_function":"relu","n_inner":7}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseHFConfig(data)
		if err == nil {
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("ParseHFConfig accepted an invalid config %+v: %v", cfg, verr)
			}
		}
	})
}

// FuzzParseHFIndex feeds arbitrary bytes to the sharded-checkpoint index parser.
func FuzzParseHFIndex(f *testing.F) {
	f.Add([]byte(`{"metadata":{"total_size":8},"weight_map":{"wte.weight":"model-00001-of-00002.safetensors"}}`))
	f.Add([]byte(`{"weight_map":{"a":"../x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseHFIndex(data) // must not panic
	})
}

// FuzzCheckpointJSON writes arbitrary bytes as the checkpoint.json of an otherwise valid
// checkpoint: LoadCheckpoint must return an error or a checkpoint that restores, never panic.
func FuzzCheckpointJSON(f *testing.F) {
	m, err := New(tinyConfig(), 1)
	if err != nil {
		f.Fatal(err)
	}
	base := f.TempDir()
	if err := SaveCheckpoint(base, m, TrainState{Step: 3}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(base, CheckpointFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"goformer-checkpoint","version":1,"optim":{"lr":"x","betas":[1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(base, CheckpointFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		ck, err := LoadCheckpoint(base)
		if err != nil {
			return
		}
		fresh, err := New(ck.Config, 2)
		if err != nil {
			t.Fatalf("LoadCheckpoint accepted config %+v that New refuses: %v", ck.Config, err)
		}
		_ = ck.Restore(fresh, nil)
		_, _ = ck.Optimizer()
	})
}
