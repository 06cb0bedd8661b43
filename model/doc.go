// Package model is a GPT: configuration, forward pass and loss, text generation with a KV cache,
// and Hugging Face import and export of GPT-2 and of the Llama family.
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
// The Llama family (Llama, SmolLM, Mistral, Qwen2, Qwen3) is the same decoder configured otherwise
// (Config's Norm, Positions, FeedForward, NKVHead, HeadDim, QKNorm, biases, UntiedHead): RMSNorm,
// rotary positions, a SwiGLU feed-forward, grouped KV heads, Qwen3's QK-norm. Its parameters
// carry its Hugging Face names: model.embed_tokens, model.layers.N.input_layernorm,
// model.layers.N.self_attn.{q,k,v,o}_proj, model.layers.N.mlp.{gate,up,down}_proj, model.norm,
// lm_head.
//
// The architecture is written down once, in gpt.go's build: a function that asks an nn.Builder
// for each layer. Everything else derives from it: New and NewLikePyTorch fill the parameters with
// random draws, LoadHF and Build (which package checkpoint uses) fill them from files (whose
// expected names, shapes and layouts come from the same description), and Frozen shares them as
// constants.
//
// Where to start:
//   - New builds a GPT with random GPT-2 initialisation; NewLikePyTorch draws the very weights
//     PyTorch draws for nanoGPT's model after torch.manual_seed, to follow a PyTorch run.
//   - GPT.Loss and GPT.Forward run it, with dropout: a GPT is always ready to train.
//     GPT.Frozen is the one way to evaluate: a view with no graph and no dropout, safe to use
//     from any goroutine.
//   - GPT.Generate and GPT.GenerateAll sample from it; GenerateBatch runs many prompts at once.
//   - GPT.Compact and Transformer.Compact make an inference view whose weight matrices are
//     bfloat16 or int8 (half or a quarter of the memory; decoding streams fewer bytes per
//     token), built from the same description with compact nn.Matrix weights.
//   - Package checkpoint saves and resumes training exactly; Build and DropoutRNG are what it
//     uses of a GPT, and BaseWeights and WithLoRAFrom of one with adapters.
//   - LoadHF and SaveHF read and write Hugging Face directories of GPT-2 and of the Llama family
//     (safetensors, sharded or pytorch_model.bin; bf16 and f16 widened); CropBlockSize and
//     SetDropout adapt a loaded model for fine-tuning.
//   - GPT.WithLoRA fine-tunes with low-rank adapters on the blocks' Linear layers (the base
//     frozen, the adapters its only Parameters); GPT.Merge folds them in, and SaveHF saves merged.
//
// The package also holds the encoder–decoder of "Attention Is All You Need" (Transformer,
// transformer*.go), computed as PyTorch's nn.Transformer computes it and named as its state dict
// names it: NewTransformer, Loss over padded batches, Translate (greedy or beam search, cached
// keys and values), LoadTransformer and SaveTransformer for PyTorch-layout directories.
//
// Input that comes from outside (configs, token ids, sequence lengths, files) is checked and
// reported as an error, never a panic.
package model
