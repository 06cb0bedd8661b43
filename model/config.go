package model

import (
	"errors"
	"fmt"
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
	// LayerNormEps is LayerNorm's epsilon; 0 means GPT-2's 1e-5.
	LayerNormEps float32
	// GELUTanh selects GPT-2's tanh approximation of GELU ("gelu_new") instead of the exact
	// erf form (PyTorch's default, nanoGPT's).
	GELUTanh bool
	// Positions selects the position signal: "" or "learned" (GPT-2's wpe table, trained) or
	// "sinusoidal" (the fixed table of "Attention Is All You Need", no parameters, no wpe).
	// Hugging Face's GPT-2 layout holds only learned positions.
	Positions string `json:",omitempty"`
}

// The values of Config.Positions.
const (
	PositionsLearned    = "learned"
	PositionsSinusoidal = "sinusoidal"
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
	if c.NHead > 0 && c.NEmbd > 0 && c.NEmbd%c.NHead != 0 {
		errs = append(errs, fmt.Errorf("NEmbd %d is not divisible by NHead %d", c.NEmbd, c.NHead))
	}
	if c.Dropout < 0 || c.Dropout >= 1 || c.Dropout != c.Dropout {
		errs = append(errs, fmt.Errorf("Dropout must be in [0, 1), got %v", c.Dropout))
	}
	if c.LayerNormEps < 0 || c.LayerNormEps != c.LayerNormEps {
		errs = append(errs, fmt.Errorf("LayerNormEps must be >= 0, got %v", c.LayerNormEps))
	}
	if c.Positions != "" && c.Positions != PositionsLearned && c.Positions != PositionsSinusoidal {
		errs = append(errs, fmt.Errorf("Positions must be %q or %q, got %q", PositionsLearned, PositionsSinusoidal, c.Positions))
	}
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
