package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// TransformerConfig sizes an encoder–decoder Transformer. Its JSON form is the config.json of a
// PyTorch nn.Transformer directory (see LoadTransformer), field for field.
type TransformerConfig struct {
	SrcVocabSize     int     `json:"src_vocab_size"` // source vocabulary
	TgtVocabSize     int     `json:"tgt_vocab_size"` // V, the target vocabulary
	DModel           int     `json:"d_model"`        // C
	NHead            int     `json:"nhead"`          // NH; DModel must be divisible by it
	NumEncoderLayers int     `json:"num_encoder_layers"`
	NumDecoderLayers int     `json:"num_decoder_layers"`
	DimFeedforward   int     `json:"dim_feedforward"`
	Activation       string  `json:"activation"` // "relu" or "gelu" (the exact erf form)
	NormFirst        bool    `json:"norm_first"` // pre-LN; false is the paper's post-LN
	MaxLen           int     `json:"max_len"`    // the longest source or target sequence
	LayerNormEps     float32 `json:"layer_norm_eps"`
	Dropout          float32 `json:"dropout"` // probability, in [0, 1)
	PadID            int     `json:"pad_id"`  // padding, in both vocabularies; masked and ignored
	BosID            int     `json:"bos_id"`  // starts every target
	EosID            int     `json:"eos_id"`  // ends every target
	// EmbeddingScale and PositionalEncoding describe the embeddings; the only supported values
	// (also meant when empty) are "sqrt(d_model)" and "sinusoidal".
	EmbeddingScale     string `json:"embedding_scale,omitempty"`
	PositionalEncoding string `json:"positional_encoding,omitempty"`
}

const (
	embeddingScaleSqrt = "sqrt(d_model)"
	positionsSin       = "sinusoidal"
)

// Validate reports everything wrong with c, if anything, sizes included: the parameters and the
// positional table at max_len must each be within 2³⁴ values (as for a GPT: see Config.Validate),
// which Validate computes from the description without allocating anything.
func (c TransformerConfig) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"src_vocab_size", c.SrcVocabSize}, {"tgt_vocab_size", c.TgtVocabSize}, {"d_model", c.DModel},
		{"nhead", c.NHead}, {"num_encoder_layers", c.NumEncoderLayers}, {"num_decoder_layers", c.NumDecoderLayers},
		{"dim_feedforward", c.DimFeedforward}, {"max_len", c.MaxLen},
	} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", f.name, f.v))
		}
	}
	if c.NHead > 0 && c.DModel > 0 && c.DModel%c.NHead != 0 {
		errs = append(errs, fmt.Errorf("d_model %d is not divisible by nhead %d", c.DModel, c.NHead))
	}
	if c.Activation != "relu" && c.Activation != "gelu" {
		errs = append(errs, fmt.Errorf("activation %q is not supported (want relu or gelu)", c.Activation))
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		errs = append(errs, fmt.Errorf("dropout must be in [0, 1), got %v", c.Dropout))
	}
	if !(c.LayerNormEps >= 0) || math.IsInf(float64(c.LayerNormEps), 1) {
		errs = append(errs, fmt.Errorf("layer_norm_eps must be finite and >= 0, got %v", c.LayerNormEps))
	}
	inVocab := func(name string, id, v int) {
		if v > 0 && (id < 0 || id >= v) {
			errs = append(errs, fmt.Errorf("%s %d is outside the vocabulary [0, %d)", name, id, v))
		}
	}
	inVocab("pad_id", c.PadID, c.SrcVocabSize)
	inVocab("pad_id", c.PadID, c.TgtVocabSize)
	inVocab("bos_id", c.BosID, c.TgtVocabSize)
	inVocab("eos_id", c.EosID, c.TgtVocabSize)
	if c.BosID == c.PadID {
		errs = append(errs, fmt.Errorf("bos_id and pad_id are both %d: a target must not start with padding", c.BosID))
	}
	if c.EosID == c.BosID {
		errs = append(errs, fmt.Errorf("bos_id and eos_id are both %d", c.BosID))
	}
	if c.EmbeddingScale != "" && c.EmbeddingScale != embeddingScaleSqrt {
		errs = append(errs, fmt.Errorf("embedding_scale %q is not supported (want %q)", c.EmbeddingScale, embeddingScaleSqrt))
	}
	if c.PositionalEncoding != "" && c.PositionalEncoding != positionsSin {
		errs = append(errs, fmt.Errorf("positional_encoding %q is not supported (want %q)", c.PositionalEncoding, positionsSin))
	}
	if len(errs) == 0 {
		// Sizes are checked before anything is allocated (the model, or a loader comparing a
		// file with the config): the parameters, and the positional table at its full length,
		// each within what the library accepts, which also keeps every size an int.
		if n := transformerParamCount(c); n > maxParams {
			errs = append(errs, fmt.Errorf("%.3g parameters (src_vocab_size %d, tgt_vocab_size %d, d_model %d, dim_feedforward %d, %d+%d layers), more than the %d this library accepts",
				n, c.SrcVocabSize, c.TgtVocabSize, c.DModel, c.DimFeedforward, c.NumEncoderLayers, c.NumDecoderLayers, int64(maxParams)))
		}
		if n := float64(c.MaxLen) * float64(c.DModel); n > maxParams {
			errs = append(errs, fmt.Errorf("max_len %d × d_model %d = %.3g positional-encoding values, more than the %d this library accepts", c.MaxLen, c.DModel, n, int64(maxParams)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("model: invalid transformer config: %w", err)
	}
	return nil
}

func (c TransformerConfig) layerNormEps() float32 {
	if c.LayerNormEps == 0 {
		return 1e-5
	}
	return c.LayerNormEps
}

// ParseTransformerConfig reads the config.json of a PyTorch nn.Transformer directory. Every field
// of TransformerConfig except dropout, layer_norm_eps, embedding_scale and positional_encoding
// must be present; unknown fields are ignored.
func ParseTransformerConfig(data []byte) (TransformerConfig, error) {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(data, &present); err != nil {
		return TransformerConfig{}, fmt.Errorf("model: config.json: %w", err)
	}
	var missing []string
	for _, name := range []string{"src_vocab_size", "tgt_vocab_size", "d_model", "nhead", "num_encoder_layers",
		"num_decoder_layers", "dim_feedforward", "activation", "norm_first", "max_len", "pad_id", "bos_id", "eos_id"} {
		if v, ok := present[name]; !ok || string(v) == "null" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return TransformerConfig{}, fmt.Errorf("model: config.json: missing %q", missing)
	}
	var c TransformerConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return TransformerConfig{}, fmt.Errorf("model: config.json: %w", err)
	}
	if err := c.Validate(); err != nil {
		return TransformerConfig{}, fmt.Errorf("%w (config.json)", err)
	}
	return c, nil
}
