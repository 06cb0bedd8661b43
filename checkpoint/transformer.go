package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
)

// KindTransformer is the kind of a checkpoint of a *model.Transformer.
const KindTransformer = "transformer"

var transformerKind = kind{
	name: KindTransformer,
	config: func(m Model) (any, bool) {
		t, ok := m.(*model.Transformer)
		if !ok {
			return nil, false
		}
		return t.Config, true
	},
	same: func(stored json.RawMessage, m Model) error {
		want, err := transformerConfig(stored)
		if err != nil {
			return err
		}
		got := m.(*model.Transformer).Config
		w, g := want, got
		w.Dropout, g.Dropout = 0, 0
		if w != g {
			return fmt.Errorf("checkpoint config %+v does not match the model's %+v", want, got)
		}
		return nil
	},
	build: func(stored json.RawMessage, values int64, src nn.Source) (Model, error) {
		c, err := transformerConfig(stored)
		if err != nil {
			return nil, err
		}
		// Every layer holds at least its attention's 4·C² weights: a config claiming more
		// layers than the file can fill is refused before the builder goes through them.
		layers := float64(c.NumEncoderLayers) + float64(c.NumDecoderLayers)
		if 4*float64(c.DModel)*float64(c.DModel)*layers > float64(values) {
			return nil, fmt.Errorf("holds %d parameter values, too few for config %+v", values, c)
		}
		return model.BuildTransformer(c, src)
	},
}

// transformerConfig parses and validates a stored Transformer config; a field it does not know
// is an error.
func transformerConfig(raw json.RawMessage) (model.TransformerConfig, error) {
	var c model.TransformerConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return model.TransformerConfig{}, fmt.Errorf("Transformer config: %w", err)
	}
	return c, c.Validate()
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
