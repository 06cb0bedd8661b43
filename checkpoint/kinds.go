package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
)

// The kinds of model a checkpoint knows. Each is its config type, how to read the config of a
// model, how much of a file a config needs at the least, and the model package's constructor from
// a parameter source.

// KindGPT is the kind of a checkpoint of a *model.GPT.
const KindGPT = "gpt"

// KindTransformer is the kind of a checkpoint of a *model.Transformer.
const KindTransformer = "transformer"

var kinds = []kind{
	newKind(KindGPT, func(m *model.GPT) model.Config { return m.Config },
		func(c model.Config) model.Config { c.Dropout = 0; return c },
		gptMinValues,
		model.Build),
	newKind(KindTransformer, func(m *model.Transformer) model.TransformerConfig { return m.Config },
		func(c model.TransformerConfig) model.TransformerConfig { c.Dropout = 0; return c },
		// every layer holds at least its attention's 4·C² weights
		func(c model.TransformerConfig) float64 {
			return 4 * float64(c.DModel) * float64(c.DModel) * (float64(c.NumEncoderLayers) + float64(c.NumDecoderLayers))
		},
		model.BuildTransformer),
}

// gptMinValues is the least number of weights a GPT of config c holds: every block's attention
// has C·HS·(2·NH + 2·NKV) (the query and output projections, the keys and values), its
// feed-forward at least 2·C·H (3·C·H with SwiGLU): 12·C² for GPT-2.
func gptMinValues(c model.Config) float64 {
	hs, nkv, h := c.HeadDim, c.NKVHead, c.FFHidden
	if hs == 0 {
		hs = c.NEmbd / c.NHead
	}
	if nkv == 0 {
		nkv = c.NHead
	}
	if h == 0 {
		h = 4 * c.NEmbd
	}
	perBlock := float64(c.NEmbd) * (float64(hs)*(2*float64(c.NHead)+2*float64(nkv)) + 2*float64(h))
	return perBlock * float64(c.NLayer)
}

// GPT returns a new GPT with the checkpoint's config, parameters and dropout generator state,
// ready to train on (pass it and a fresh optimizer to Restore to resume the optimizer too) or to
// evaluate (its Frozen view). Of a checkpoint of a model with LoRA adapters, it is that model: the
// stored base with the stored adapters (model.GPT.WithLoRAFrom), its Parameters the adapters.
func (c *Checkpoint) GPT() (*model.GPT, error) {
	m, err := c.build(KindGPT, false)
	if err != nil {
		return nil, fmt.Errorf("checkpoint.GPT: %w", err)
	}
	return m.(*model.GPT), nil
}

// Transformer returns a new encoder–decoder with the checkpoint's config, parameters and dropout
// generator state, ready to train on (pass it and a fresh optimizer to Restore to resume the
// optimizer too) or to decode with.
func (c *Checkpoint) Transformer() (*model.Transformer, error) {
	m, err := c.build(KindTransformer, false)
	if err != nil {
		return nil, fmt.Errorf("checkpoint.Transformer: %w", err)
	}
	return m.(*model.Transformer), nil
}

// newKind makes the kind of models of type M with configs of type C: configOf reads a model's
// config, architecture clears the settings a resumed run may change (dropout), minValues is the
// least number of parameter values a config needs, and build is the model's constructor from a
// parameter source. A config claiming more values than the file holds is refused before anything
// of its size is built.
func newKind[M Model, C interface {
	comparable
	Validate() error
}](name string, configOf func(M) C, architecture func(C) C, minValues func(C) float64, build func(C, nn.Source) (M, error)) kind {
	parse := func(raw json.RawMessage) (C, error) {
		var c C
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("%s config: %w", name, err)
		}
		return c, c.Validate()
	}
	return kind{
		name: name,
		config: func(m Model) (any, bool) {
			mm, ok := m.(M)
			if !ok {
				return nil, false
			}
			return configOf(mm), true
		},
		same: func(stored json.RawMessage, m Model) error {
			want, err := parse(stored)
			if err != nil {
				return err
			}
			got := configOf(m.(M))
			if architecture(want) != architecture(got) {
				return fmt.Errorf("checkpoint config %+v does not match the model's %+v", want, got)
			}
			return nil
		},
		build: func(stored json.RawMessage, values int64, src nn.Source) (Model, error) {
			c, err := parse(stored)
			if err != nil {
				return nil, err
			}
			if minValues(c) > float64(values) {
				return nil, fmt.Errorf("holds %d parameter values, too few for config %+v", values, c)
			}
			return build(c, src)
		},
	}
}
