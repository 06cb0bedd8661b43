package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
)

// KindGPT is the kind of a checkpoint of a *model.GPT.
const KindGPT = "gpt"

var gptKind = kind{
	name: KindGPT,
	config: func(m Model) (any, bool) {
		g, ok := m.(*model.GPT)
		if !ok {
			return nil, false
		}
		return g.Config, true
	},
	same: func(stored json.RawMessage, m Model) error {
		want, err := gptConfig(stored)
		if err != nil {
			return err
		}
		got := m.(*model.GPT).Config
		w, g := want, got
		w.Dropout, g.Dropout = 0, 0
		if w != g {
			return fmt.Errorf("checkpoint config %+v does not match the model's %+v", want, got)
		}
		return nil
	},
	build: func(stored json.RawMessage, values int64, src nn.Source) (Model, error) {
		c, err := gptConfig(stored)
		if err != nil {
			return nil, err
		}
		// Every block holds 12·C² weights, so a config claiming more than the file holds is
		// wrong; checking this first keeps a doctored config from making the builder go
		// through (and allocate a block for) more layers than the file could fill.
		if 12*float64(c.NEmbd)*float64(c.NEmbd)*float64(c.NLayer) > float64(values) {
			return nil, fmt.Errorf("holds %d parameter values, too few for config %+v", values, c)
		}
		m, err := model.Build(c, src)
		if err != nil {
			return nil, err
		}
		return m, nil
	},
}

// gptConfig parses and validates a stored GPT config; a field it does not know is an error.
func gptConfig(raw json.RawMessage) (model.Config, error) {
	var c model.Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return model.Config{}, fmt.Errorf("GPT config: %w", err)
	}
	return c, c.Validate()
}

// GPT returns a new GPT with the checkpoint's config, parameters and dropout generator state,
// ready to train on (pass it and a fresh optimizer to Restore to resume the optimizer too) or to
// evaluate (its Frozen view).
func (c *Checkpoint) GPT() (*model.GPT, error) {
	m, err := c.build(KindGPT, false)
	if err != nil {
		return nil, fmt.Errorf("checkpoint.GPT: %w", err)
	}
	return m.(*model.GPT), nil
}
