// Package nn provides the layers models are made of, as plain structs of *autograd.Var
// parameters: Linear, Embedding, LayerNorm, GELU, ReLU, Dropout, the sinusoidal positional
// encoding (Sinusoidal); what the Llama family adds (RMSNorm, the SwiGLU feed-forward, Rotary:
// rotary position embeddings with llama3 and linear scaling, a Rotation); and the three parts
// every model shares:
//   - Attention (attention.go), the one attention layer: self or cross, causal or not, key
//     padding, fused or separate projections, grouped KV heads, an optional Rotation of q and k
//     and an optional Norm of each head; Attend beside it is the plain composition to read first;
//   - KVCache (kvcache.go), the one decoding cache: rows of different lengths, Reorder for beam
//     search, a cross-attention form computed once from the encoder's output;
//   - Block (block.go), the one block shape, pre- or post-norm, with an optional cross-attention,
//     whose Norm and FeedForward are parts (MLP: GELU or ReLU; SwiGLU). NewBlock builds GPT-2's with
//     Hugging Face's names; NewEncoderLayer and NewDecoderLayer build PyTorch nn.Transformer's with
//     its names. For a decoding step, StepRow (step_row.go) runs the same block on the
//     sequences' rows in reused buffers instead of a graph of tensors, bit for bit what Forward
//     computes.
//
// Shapes use llm.c's legend: B batch, T time (sequence position), C channels (embedding width),
// V vocabulary, NH heads, NKV key/value heads, HS head size (C / NH unless a model says
// otherwise).
//
// Layers are built through a Builder, which hands each constructor its parameters by name
// (names mirror Hugging Face's GPT-2: c_attn, c_proj, c_fc, ln_1, ...) and shape. Where the
// values come from is the builder's Source: Random draws a fresh model, Shared hands out another
// model's parameters (as constants, for a frozen view), and a loader can read them from a file.
// A model is thus described once, by one function over a Builder, and Specs lists the names and
// shapes such a description asks for without allocating anything.
//
// Linear weights use PyTorch's nn.Linear layout (out, in); GPT-2 checkpoints store Conv1D
// weights as (in, out), which package model transposes on import and export (Spec.Layer tells
// a loader which parameters are Linear weights).
//
// Layers whose behaviour differs between training and evaluation (Dropout) read a shared *Mode
// that the Builder hands out: a trainable model's mode trains, a frozen view's evaluates.
//
// Linear and Embedding use their weight through one interface, Matrix (matrix.go): a float32
// parameter (Dense) in every model that trains, or, in an inference view, a compact one
// (bfloat16, int8) in their Compact field, which a builder made by NewCompactBuilder supplies
// from the same description (package model's Compact uses it). Such a weight has no gradient.
//
// For fine-tuning, a Linear can carry a low-rank adapter (LoRA, lora.go) in its LoRA field: its
// output gains (alpha/r)·B(A x) while W, a constant, stays as it was (package model's
// GPT.WithLoRA puts them on a model's layers and GPT.Merge folds them into W).
package nn
