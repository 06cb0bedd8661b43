package model

import "testing"

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
