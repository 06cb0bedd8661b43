package checkpoint

import (
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
)

// A GPT with LoRA adapters (model.GPT.WithLoRA) trains its adapters only: they are its
// Parameters, what the optimizer's state refers to. Its checkpoint is of kind KindGPT, the base
// model's config, and holds the frozen base weights (model.GPT.BaseWeights) beside the adapters,
// so that it is whole: loading it needs nothing else, and resuming it cannot pick up another
// base. checkpoint.json holds the adapters' configuration (loraJSON); Checkpoint.GPT builds the
// base from the stored weights and puts the stored adapters back on it
// (model.GPT.WithLoRAFrom).

// adaptersOf returns the configuration of m's LoRA adapters and its frozen base weights, or nil
// and nil for a model without adapters.
func adaptersOf(m Model) (*model.LoRAConfig, []*autograd.Var) {
	g, ok := m.(*model.GPT)
	if !ok {
		return nil, nil
	}
	return g.LoRA(), g.BaseWeights()
}

func toLoRAJSON(c *model.LoRAConfig) *loraJSON {
	if c == nil {
		return nil
	}
	return &loraJSON{Rank: c.Rank, Alpha: c.Alpha, Targets: c.Targets}
}

// LoRA returns the configuration of the LoRA adapters of the checkpoint's model (its Seed is
// 0: a checkpoint does not keep it), or nil for a model without adapters.
func (c *Checkpoint) LoRA() *model.LoRAConfig {
	if c.lora == nil {
		return nil
	}
	return &model.LoRAConfig{Rank: c.lora.Rank, Alpha: c.lora.Alpha, Targets: slices.Clone(c.lora.Targets)}
}

// withAdapters returns m, the model built from the checkpoint's config, with the checkpoint's
// adapters put back on it, their values from src; m itself for a checkpoint without adapters.
func (c *Checkpoint) withAdapters(m Model, src nn.Source) (Model, error) {
	lc := c.LoRA()
	if lc == nil {
		return m, nil
	}
	g, ok := m.(*model.GPT)
	if !ok {
		return nil, fmt.Errorf("LoRA adapters on a model of kind %q, which takes none", c.Kind)
	}
	return g.WithLoRAFrom(*lc, src)
}

// sameAdapters checks that a model whose adapters are configured as lc (nil: none) has the
// checkpoint's adapters: what they compute depends on their scale, which no shape shows.
func (c *Checkpoint) sameAdapters(lc *model.LoRAConfig) error {
	saved := c.LoRA()
	switch {
	case saved == nil && lc == nil:
		return nil
	case saved == nil:
		return fmt.Errorf("the model has LoRA adapters (rank %d), the checkpoint's model none", lc.Rank)
	case lc == nil:
		return fmt.Errorf("the checkpoint's model has LoRA adapters (rank %d, alpha %g, targets %q), this model none: build it with Checkpoint.GPT", saved.Rank, saved.Alpha, saved.Targets)
	case !saved.SameAdapters(*lc):
		return fmt.Errorf("the checkpoint's LoRA adapters have rank %d, alpha %g, targets %q; the model's rank %d, alpha %g, targets %q",
			saved.Rank, saved.Alpha, saved.Targets, lc.Rank, lc.Alpha, lc.Targets)
	}
	return nil
}

// sameBase checks that the frozen weights of a model with adapters are the checkpoint's, to the
// bit. Restore does not overwrite them: they share their values with the model that WithLoRA
// adapted, which training the adapters never changes, and adapters resume only on the base they
// were trained on.
func (c *Checkpoint) sameBase(base []*autograd.Var) error {
	for _, w := range base {
		t, ok := c.params[w.Name()]
		if !ok || !slices.Equal(t.Shape(), w.Shape()) {
			return fmt.Errorf("no frozen weight %s of shape %v in the checkpoint", w.Name(), w.Shape())
		}
		if !slices.EqualFunc(t.Contiguous().Data(), w.Value.Contiguous().Data(), func(a, b float32) bool {
			return math.Float32bits(a) == math.Float32bits(b)
		}) {
			return fmt.Errorf("the model's frozen weight %s is not the checkpoint's: its adapters were trained on another base (Checkpoint.GPT builds the model on its own)", w.Name())
		}
	}
	return nil
}
