package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// This file reads and writes an encoder–decoder in the layout a PyTorch user gets from wrapping
// nn.Transformer (batch_first) with two nn.Embedding, a sinusoidal positional encoding and an
// nn.Linear generator, and saving its state dict with safetensors: a directory holding
//
//	config.json        TransformerConfig's JSON form (src_vocab_size, d_model, nhead, ...)
//	model.safetensors  the state dict: src_embed.weight, tgt_embed.weight,
//	                   transformer.encoder.layers.N.{self_attn,linear1,linear2,norm1,norm2}.…,
//	                   transformer.encoder.norm.…, transformer.decoder.layers.N.{self_attn,
//	                   multihead_attn,linear1,linear2,norm1,norm2,norm3}.…,
//	                   transformer.decoder.norm.…, generator.weight, generator.bias
//
// Every tensor is in PyTorch's own layout (Linear weights (out, in), in_proj_weight (3C, C)
// stacking q, k, v), which is also goformer's: loading is a name-for-name copy.

// LoadTransformer loads a Transformer from a directory holding config.json and model.safetensors
// as described above (F32, F16, BF16 or F64 tensors, read as float32). Every problem (a missing
// or malformed file, a bad config, a missing, unexpected or mis-shaped tensor, a non-float dtype)
// is an error; names, dtypes and shapes are all checked against config.json before any tensor
// data is read. The model is returned ready to train, with Config.Dropout; evaluate it through
// Frozen.
func LoadTransformer(dir string) (*Transformer, error) {
	data, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return nil, fmt.Errorf("model: loading a Transformer: %w", err)
	}
	cfg, err := ParseTransformerConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	path := filepath.Join(dir, weightsFile)
	st, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	defer st.Close()
	m, err := loadTransformerTensors(cfg, st)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	return m, nil
}

// loadTransformerTensors builds a Transformer for cfg from the tensors of st.
func loadTransformerTensors(cfg TransformerConfig, st hfStore) (*Transformer, error) {
	// An encoder layer has 12 tensors and a decoder layer 18: bound the layer counts by the file
	// before listing what it should hold.
	if n := len(st.Names()); 12*cfg.NumEncoderLayers+18*cfg.NumDecoderLayers > n {
		return nil, fmt.Errorf("config.json says %d encoder and %d decoder layers but the file holds only %d tensors",
			cfg.NumEncoderLayers, cfg.NumDecoderLayers, n)
	}
	errs := checkLayout(st, transformerSpecs(cfg), func(name string) error {
		return fmt.Errorf("unexpected tensor %q (do config.json's layer counts match the file?)", name)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return BuildTransformer(cfg, func(s nn.Spec) (*autograd.Var, error) {
		v, err := st.Float32(s.Name)
		if err != nil {
			return nil, err
		}
		return autograd.NamedParam(s.Name, v), nil
	})
}

// SaveTransformer writes m as a directory that LoadTransformer reads and that a PyTorch user
// loads with json.load and safetensors.torch.load_file + load_state_dict: config.json and
// model.safetensors (F32, PyTorch's names and layout, metadata {"format": "pt"}). dir is created
// if needed; other files in it are left alone.
//
// Both files are written under temporary names and synced before either is renamed into place,
// so an error leaves any previous config.json and model.safetensors intact.
func SaveTransformer(m *Transformer, dir string) error {
	if m == nil {
		return errors.New("model: SaveTransformer: nil model")
	}
	if m.format != Float32 {
		return m.errCompactView("SaveTransformer")
	}
	cfg := m.Config
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("model: SaveTransformer: %w", err)
	}
	cfg.LayerNormEps = cfg.layerNormEps()
	cfg.EmbeddingScale, cfg.PositionalEncoding = embeddingScaleSqrt, positionsSin
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("model: SaveTransformer: %w", err)
	}
	tensors := make(map[string]*tensor.Tensor, len(m.params))
	for _, p := range m.params {
		tensors[p.Name()] = p.Value.Contiguous()
	}
	if err := saveDir(dir, tensors, append(cfgJSON, '\n')); err != nil {
		return fmt.Errorf("model: SaveTransformer: %w", err)
	}
	return nil
}
