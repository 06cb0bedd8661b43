// Package nn provides the layers a GPT is made of, as plain structs of *autograd.Var parameters:
// Linear, Embedding, LayerNorm, GELU, Dropout, CausalSelfAttention, MLP and Block.
//
// Shapes use llm.c's legend: B batch, T time (sequence position), C channels (embedding width),
// V vocabulary, NH heads, HS head size (C / NH).
//
// Every layer can list its parameters by name (Params), with names that mirror Hugging Face's
// GPT-2 (c_attn, c_proj, c_fc, ln_1, ...), so that loading real weights is a name-for-name copy.
// Linear weights use PyTorch's nn.Linear layout (out, in); GPT-2 checkpoints store Conv1D
// weights as (in, out), which package model transposes on import and export.
//
// Layers whose behaviour differs between training and evaluation (Dropout) read a shared *Mode,
// which the model owns and flips with its Train and Eval methods.
package nn
