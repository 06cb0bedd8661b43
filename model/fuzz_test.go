package model

import "testing"

// FuzzParseHFConfig feeds arbitrary bytes to the config.json parser: an error or a valid Config,
// never a panic.
func FuzzParseHFConfig(f *testing.F) {
	f.Add([]byte(`{"model_type":"gpt2","vocab_size":50257,"n_positions":1024,"n_embd":768,"n_layer":12,"n_head":12}`))
	f.Add([]byte(`{"model_type":"gpt2","vocab_size":5,"n_ctx":4,"n_embd":6,"n_layer":1,"n_head":5,"layer_norm_epsilon":-1}`))
	f.Add([]byte(`{"model_type":"gpt2","activation_function":"relu","n_inner":7}`))
	f.Add([]byte(`{"model_type":"llama","vocab_size":97,"hidden_size":64,"intermediate_size":160,"num_hidden_layers":2,"num_attention_heads":4,` +
		`"num_key_value_heads":2,"max_position_embeddings":64,"rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":1,` +
		`"high_freq_factor":4,"original_max_position_embeddings":16},"eos_token_id":[2,3],"tie_word_embeddings":false}`))
	f.Add([]byte(`{"model_type":"qwen3","vocab_size":89,"hidden_size":48,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,` +
		`"num_key_value_heads":2,"head_dim":24,"max_position_embeddings":64,"layer_types":["full_attention","sliding_attention"],"sliding_window":8}`))
	f.Add([]byte(`{"model_type":"mistral","vocab_size":9,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,` +
		`"max_position_embeddings":8,"sliding_window":null,"rope_parameters":{"rope_type":"linear","factor":2,"rope_theta":100}}`))
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
