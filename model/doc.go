// Package model is a GPT: configuration, forward pass and loss, text generation with a KV cache,
// checkpoints, and Hugging Face GPT-2 import and export.
//
// Shapes use llm.c's legend: B batch, T time, C channels (NEmbd), V vocabulary, NH heads,
// HS head size.
//
// The architecture is GPT-2's (and nanoGPT's): token and learned position embeddings, NLayer
// pre-norm blocks of causal self-attention and a 4× GELU MLP with residual connections, a final
// LayerNorm, and an output head tied to the token embedding. Parameter names mirror Hugging
// Face's: wte, wpe, h.N.ln_1, h.N.attn.c_attn, h.N.attn.c_proj, h.N.ln_2, h.N.mlp.c_fc,
// h.N.mlp.c_proj, ln_f.
//
// Input that comes from outside (configs, token ids, sequence lengths, files) is checked and
// reported as an error, never a panic.
package model
