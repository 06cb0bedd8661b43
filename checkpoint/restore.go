package checkpoint

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// OptimizerConfig is how the optimizer of a checkpoint was configured.
type OptimizerConfig struct {
	Kind string // optim.KindAdamW, optim.KindSGD, ...
	// Hyper holds the hyperparameters by name, as optim.State.Hyper: "lr" is the learning rate
	// at the save.
	Hyper   map[string]float32
	Decayed []string // the names of the parameters weight decay applied to
}

// Optimizer returns the configuration of the optimizer saved with the checkpoint, and false for
// a checkpoint saved without one. Restore does not apply it (except the learning rate): the
// caller builds its optimizer, and may compare.
func (c *Checkpoint) Optimizer() (OptimizerConfig, bool) {
	if c.optim == nil {
		return OptimizerConfig{}, false
	}
	return OptimizerConfig{Kind: c.optim.Kind, Hyper: maps.Clone(c.optim.Hyper), Decayed: slices.Clone(c.optim.Decayed)}, true
}

// Restore copies the checkpoint's parameters and dropout generator state into m, which must be of
// the checkpoint's kind and config (dropout aside), and, if opt is not nil, the optimizer state
// into opt (optim.Optimizer.LoadState: step counts, slot tensors and the learning rate), matched
// by parameter name: opt's parameters must be m's, and the checkpoint must hold state of opt's
// kind for each. A model with LoRA adapters must have the checkpoint's (rank, alpha, targets),
// and its frozen base weights must be the checkpoint's, to the bit: Restore copies the adapters,
// its parameters, and leaves the base, shared with the model it was adapted from, as it is. On
// error nothing has been changed.
func (c *Checkpoint) Restore(m Model, opt optim.Optimizer) error {
	if err := c.restore(m, opt); err != nil {
		return fmt.Errorf("checkpoint.Restore: %w", err)
	}
	return nil
}

func (c *Checkpoint) restore(m Model, opt optim.Optimizer) error {
	k, _, err := describe(m)
	if err != nil {
		return err
	}
	if k.name != c.Kind {
		return fmt.Errorf("the checkpoint holds a model of kind %q, not %q", c.Kind, k.name)
	}
	if err := k.same(c.config, m); err != nil {
		return err
	}
	lora, base := adaptersOf(m)
	if err := c.sameAdapters(lora); err != nil {
		return err
	}
	params := m.Parameters()
	names := make(map[*autograd.Var]string, len(params))
	for _, p := range params {
		t, ok := c.params[p.Name()]
		if !ok || !slices.Equal(t.Shape(), p.Shape()) {
			return fmt.Errorf("no parameter %s of shape %v in the checkpoint", p.Name(), p.Shape())
		}
		names[p] = p.Name()
	}
	if len(base)+len(params) != len(c.params) {
		return fmt.Errorf("the checkpoint holds %d parameters, the model %d", len(c.params), len(base)+len(params))
	}
	if err := c.sameBase(base); err != nil {
		return err
	}
	dropout := m.DropoutRNG()
	if dropout == nil {
		return errors.New("cannot restore into a frozen view")
	}
	if opt != nil {
		s, err := c.optimizerState(opt.Params(), names)
		if err != nil {
			return err
		}
		if err := opt.LoadState(s); err != nil { // checks everything before changing anything
			return err
		}
	}
	for _, p := range params {
		p.Value.CopyFrom(c.params[p.Name()])
	}
	*dropout = *c.dropout
	return nil
}

// optimizerState assembles the saved optimizer state for the parameters ps of an optimizer, in
// its order; names maps the model's parameters to their names.
func (c *Checkpoint) optimizerState(ps []*autograd.Var, names map[*autograd.Var]string) (optim.State, error) {
	o := c.optim
	if o == nil {
		return optim.State{}, errors.New("the checkpoint holds no optimizer state")
	}
	index := make(map[string]int, len(o.Params))
	for i, name := range o.Params {
		index[name] = i
	}
	decayed := make(map[string]bool, len(o.Decayed))
	for _, name := range o.Decayed {
		decayed[name] = true
	}
	s := optim.State{Kind: o.Kind, Hyper: maps.Clone(o.Hyper), Slots: map[string][]*tensor.Tensor{}, Decay: make([]bool, len(ps))}
	if o.Steps != nil {
		s.Steps = make([]int, len(ps))
	}
	for _, slot := range o.Slots {
		s.Slots[slot] = make([]*tensor.Tensor, len(ps))
	}
	for i, p := range ps {
		name, ok := names[p]
		if !ok {
			return optim.State{}, fmt.Errorf("optimizer parameter %d (shape %v) is not a parameter of the model", i, p.Shape())
		}
		j, ok := index[name]
		if !ok {
			return optim.State{}, fmt.Errorf("the checkpoint has no optimizer state for %s", name)
		}
		if s.Steps != nil {
			s.Steps[i] = o.Steps[j]
		}
		s.Decay[i] = decayed[name]
		for _, slot := range o.Slots {
			s.Slots[slot][i] = c.slots[slotTensor(slot, name)] // nil where none was saved
		}
	}
	return s, nil
}

// RestoreRNG sets g to the state of the generator saved under name. g must be of the kind that
// was saved; a state it cannot read is an error, and g is then left as the generator's
// UnmarshalBinary leaves it on error (unchanged, for *rand.PCG).
func (c *Checkpoint) RestoreRNG(name string, g RNGState) error {
	b, ok := c.rng[name]
	if !ok {
		return fmt.Errorf("checkpoint.RestoreRNG: no RNG %q in the checkpoint", name)
	}
	if err := g.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("checkpoint.RestoreRNG: %q: %w", name, err)
	}
	return nil
}
