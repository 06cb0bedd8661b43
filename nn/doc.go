// Package nn provides the layers a GPT is made of, as plain structs of *autograd.Var parameters:
// Linear, Embedding, LayerNorm, GELU, Dropout, CausalSelfAttention, MLP and Block; and those of
// the encoder–decoder Transformer, with PyTorch's names and layouts: MultiheadAttention (self- and
// cross-attention, causal and key-padding masks, decoding caches), EncoderLayer and DecoderLayer
// (post-LN or pre-LN, ReLU or GELU), and the sinusoidal positional encoding (Sinusoidal).
//
// Shapes use llm.c's legend: B batch, T time (sequence position), C channels (embedding width),
// V vocabulary, NH heads, HS head size (C / NH).
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
// For inference, Linear and Embedding can hold their weight in a compact format (bfloat16,
// int8) instead of float32: a CompactWeight in their Compact field, which a builder made by
// NewCompactBuilder supplies from the same description (see compact.go; package model's
// GPT.Compact uses it). Such a weight has no gradient.
package nn
