package model

import (
	"errors"
	"fmt"

	"github.com/goformer/goformer/nn"
)

// Config sizes a GPT. The zero values of the optional fields give GPT-2's choices.
type Config struct {
	VocabSize int // V
	BlockSize int // the longest sequence (context) the model accepts
	NLayer    int
	NHead     int     // NH; NEmbd must be divisible by it
	NEmbd     int     // C
	Dropout   float32 // probability, in [0, 1)
	// NoBias drops the biases of Linear and LayerNorm layers (nanoGPT's bias=False).
	NoBias bool
	// LayerNormEps is the norms' epsilon (LayerNorm's, or RMSNorm's with Norm "rmsnorm"); 0 means
	// GPT-2's 1e-5.
	LayerNormEps float32
	// GELUTanh selects GPT-2's tanh approximation of GELU ("gelu_new") instead of the exact
	// erf form (PyTorch's default, nanoGPT's).
	GELUTanh bool
	// Positions selects the position signal: "" or "learned" (GPT-2's wpe table, trained) or
	// "sinusoidal" (the fixed table of "Attention Is All You Need", no parameters, no wpe).
	// Hugging Face's GPT-2 layout holds only learned positions. "rotary" (the Llama family's)
	// rotates queries and keys by position instead (RopeTheta, RopeScaling) and has no table.
	Positions string `json:",omitempty"`

	// RopeTheta is the rotary base θ (Hugging Face's rope_theta); 0 means 10000.
	RopeTheta float64 `json:",omitempty"`
	// RopeScaling rescales the rotary frequencies (Hugging Face's rope_scaling); the zero value
	// leaves them as they are.
	RopeScaling nn.RopeScaling `json:",omitzero"`

	// The fields below make the Llama family (Llama, SmolLM, Mistral, Qwen2, Qwen3) other
	// configurations of the same decoder; their zero values keep GPT-2's.

	// Norm selects the norm of the blocks and the final one: "" or "layernorm" (GPT-2's) or
	// "rmsnorm" (the Llama family's: no centring, no bias). Its epsilon is LayerNormEps.
	Norm string `json:",omitempty"`
	// FeedForward selects the blocks' feed-forward: "" or "gelu" (GPT-2's MLP, c_fc and c_proj)
	// or "swiglu" (the Llama family's gated one, gate_proj, up_proj and down_proj).
	FeedForward string `json:",omitempty"`
	// FFHidden is the feed-forward's hidden width (Hugging Face's intermediate_size); 0 means
	// 4·NEmbd, GPT-2's.
	FFHidden int `json:",omitempty"`
	// NKVHead is the number of key/value heads (grouped-query attention: each serves NHead/NKVHead
	// query heads); 0 means NHead. NHead must be a multiple of it.
	NKVHead int `json:",omitempty"`
	// HeadDim is the width HS of each attention head; 0 means NEmbd/NHead. Set, it frees NEmbd from
	// being NHead·HS (Qwen3's head_dim).
	HeadDim int `json:",omitempty"`
	// QKNorm normalises each query and key head over HS, with a norm of kind Norm and its own
	// weight, before the rotation (Qwen3's q_norm and k_norm).
	QKNorm bool `json:",omitempty"`
	// With NoBias, these put back the biases of some projections: QKVBias those of the query, key
	// and value projections (Qwen2; Llama's attention_bias), OutBias the attention's output
	// projection's (Llama's attention_bias), FFBias the feed-forward's (Llama's mlp_bias).
	QKVBias bool `json:",omitempty"`
	OutBias bool `json:",omitempty"`
	FFBias  bool `json:",omitempty"`
	// UntiedHead gives the model its own output head lm_head (V, C) instead of reusing the token
	// embedding (Hugging Face's tie_word_embeddings false).
	UntiedHead bool `json:",omitempty"`
}

// The values of Config.Positions.
const (
	PositionsLearned    = "learned"
	PositionsSinusoidal = "sinusoidal"
	PositionsRotary     = "rotary"
)

func (c Config) sinusoidal() bool { return c.Positions == PositionsSinusoidal }

// Validate reports the first thing wrong with c, if anything.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"VocabSize", c.VocabSize}, {"BlockSize", c.BlockSize}, {"NLayer", c.NLayer}, {"NHead", c.NHead}, {"NEmbd", c.NEmbd}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", f.name, f.v))
		}
	}
	if c.NHead > 0 && c.NEmbd > 0 && c.HeadDim == 0 && c.NEmbd%c.NHead != 0 {
		errs = append(errs, fmt.Errorf("NEmbd %d is not divisible by NHead %d", c.NEmbd, c.NHead))
	}
	if c.Dropout < 0 || c.Dropout >= 1 || c.Dropout != c.Dropout {
		errs = append(errs, fmt.Errorf("Dropout must be in [0, 1), got %v", c.Dropout))
	}
	if c.LayerNormEps < 0 || c.LayerNormEps != c.LayerNormEps {
		errs = append(errs, fmt.Errorf("LayerNormEps must be >= 0, got %v", c.LayerNormEps))
	}
	if c.Positions != "" && c.Positions != PositionsLearned && c.Positions != PositionsSinusoidal && c.Positions != PositionsRotary {
		errs = append(errs, fmt.Errorf("Positions must be %q, %q or %q, got %q", PositionsLearned, PositionsSinusoidal, PositionsRotary, c.Positions))
	}
	errs = append(errs, c.validateDecoder()...)
	if len(errs) == 0 {
		if n := paramCount(c); n > maxParams {
			errs = append(errs, fmt.Errorf("%.3g parameters (VocabSize %d, BlockSize %d, NLayer %d, NEmbd %d), more than the %d this library accepts",
				n, c.VocabSize, c.BlockSize, c.NLayer, c.NEmbd, int64(maxParams)))
		}
		if n := float64(c.BlockSize) * float64(c.NEmbd); c.sinusoidal() && n > maxParams {
			errs = append(errs, fmt.Errorf("BlockSize %d × NEmbd %d = %.3g positional-encoding values, more than the %d this library accepts", c.BlockSize, c.NEmbd, n, int64(maxParams)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("model: invalid config: %w", err)
	}
	return nil
}

func (c Config) layerNormEps() float32 {
	if c.LayerNormEps == 0 {
		return 1e-5
	}
	return c.LayerNormEps
}
