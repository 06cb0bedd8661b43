package model

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
)

// This file adapts a model for further training, as nanoGPT does when it fine-tunes GPT-2:
// a shorter context (crop_block_size) and another dropout (override_args).

// CropBlockSize shortens the model's context to n positions, keeping the first n position
// embeddings: a GPT-2 trained on 1024 positions can then train on, and generate with, shorter
// sequences for less memory and time. n must be between 1 and the current BlockSize. Crop before
// building an optimizer: the position table becomes a new parameter.
func (m *GPT) CropBlockSize(n int) error {
	if n < 1 || n > m.Config.BlockSize {
		return fmt.Errorf("model.CropBlockSize: block size %d outside 1..%d", n, m.Config.BlockSize)
	}
	if n == m.Config.BlockSize {
		return nil
	}
	wpe := m.WPE.Weight.Value.Narrow(0, 0, n).Clone() // (n, C)
	m.WPE.Weight = autograd.Param(wpe)
	m.Config.BlockSize = n
	return nil
}

// SetDropout sets the dropout probability of every dropout layer (embeddings, attention
// weights, residual branches) and in Config, for a model built with another one (LoadHF takes
// the config.json's). p must be in [0, 1).
func (m *GPT) SetDropout(p float32) error {
	if !(p >= 0 && p < 1) {
		return fmt.Errorf("model.SetDropout: probability %v outside [0, 1)", p)
	}
	m.Config.Dropout = p
	for _, b := range m.H {
		b.Attn.AttnDrop.P, b.Attn.ResidDrop.P, b.MLP.Drop.P = p, p, p
	}
	return nil
}
