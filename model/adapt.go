package model

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// This file adapts a model for further training, as nanoGPT does when it fine-tunes GPT-2:
// a shorter context (crop_block_size) and another dropout (override_args).

// CropBlockSize shortens the model's context to n positions, keeping the first n position
// embeddings: a GPT-2 trained on 1024 positions can then train on, and generate with, shorter
// sequences for less memory and time. n must be between 1 and the current BlockSize. Crop before
// building an optimizer: the position table becomes a new parameter. A compact view (Compact)
// cannot be cropped: crop the model, then compact it.
func (m *GPT) CropBlockSize(n int) error {
	if m.format != Float32 {
		return m.errCompactView("CropBlockSize")
	}
	if n < 1 || n > m.Config.BlockSize {
		return fmt.Errorf("model.CropBlockSize: block size %d outside 1..%d", n, m.Config.BlockSize)
	}
	if n == m.Config.BlockSize {
		return nil
	}
	cfg := m.Config
	cfg.BlockSize = n
	return m.rebuild(cfg, func(s nn.Spec) (*autograd.Var, error) {
		if s.Name != "wpe.weight" {
			return nil, nil
		}
		return autograd.NamedParam(s.Name, m.WPE.Weight.Value.Narrow(0, 0, n).Clone()), nil // (n, C)
	})
}

// SetDropout sets the dropout probability of every dropout layer (embeddings, attention
// weights, residual branches) and in Config, for a model built with another one (LoadHF takes
// the config.json's). p must be in [0, 1). A compact view, for inference only, has no dropout
// to set: SetDropout returns an error.
func (m *GPT) SetDropout(p float32) error {
	if m.format != Float32 {
		return m.errCompactView("SetDropout")
	}
	if !(p >= 0 && p < 1) {
		return fmt.Errorf("model.SetDropout: probability %v outside [0, 1)", p)
	}
	cfg := m.Config
	cfg.Dropout = p
	return m.rebuild(cfg, func(nn.Spec) (*autograd.Var, error) { return nil, nil })
}
