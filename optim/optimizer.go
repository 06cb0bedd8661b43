package optim

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Optimizer updates parameters from their gradients. AdamW and SGD implement it, so that a
// training loop, or a checkpoint that saves and restores optimiser state, works with either.
type Optimizer interface {
	// Step updates every parameter that has a gradient, at the current learning rate. A
	// parameter whose Grad is nil is left alone, its step count and state included.
	Step()
	// ZeroGrad drops the gradients of the parameters (Var.ZeroGrad on each), ready for the next
	// Backward.
	ZeroGrad()
	// LR returns the learning rate the next Step will use.
	LR() float32
	// SetLR sets the learning rate of the following steps; a schedule calls it every step.
	SetLR(lr float32)
	// Params returns the parameters being optimised, in the order the optimiser was given them.
	// The slice is the optimiser's own: do not modify it.
	Params() []*autograd.Var
	// State returns a copy of the optimiser's state, for a checkpoint.
	State() State
	// LoadState restores what training changes (step counts, slot tensors and the learning
	// rate) from a state of the same kind over parameters of the same shapes, copying it. The
	// optimiser's configuration (betas, eps, momentum, weight decay and which parameters it
	// applies to) stays as it was built, so that a resumed run may change it. A state that does
	// not fit is an error, and then nothing has changed.
	LoadState(s State) error
}

// Kinds of optimiser, as in State.Kind.
const (
	KindAdamW = "adamw"
	KindSGD   = "sgd"
)

// State is a snapshot of an optimiser in a form that every optimiser shares, so that a
// checkpoint can save one without knowing its type. Per-parameter entries follow the order of
// the optimiser's Params. The tensors are copies, free to keep or save.
type State struct {
	// Kind names the optimiser (KindAdamW, KindSGD); LoadState refuses a state of another kind.
	Kind string
	// Hyper holds the hyperparameters by name: "lr" (the learning rate when the state was
	// taken, which a schedule may have moved from the configured one) and the optimiser's own
	// (AdamW: "beta1", "beta2", "eps", "weight_decay"; SGD: "momentum", "weight_decay", and
	// "nesterov" as 0 or 1).
	Hyper map[string]float32
	// Steps counts the steps each parameter has taken (AdamW's bias corrections depend on it);
	// nil for an optimiser that keeps no count (SGD).
	Steps []int
	// Slots holds the per-parameter tensors by slot name: AdamW's moments "m" and "v", SGD's
	// "momentum". An entry is nil where a parameter has none yet (SGD before its first step
	// with momentum).
	Slots map[string][]*tensor.Tensor
	// Decay says for each parameter whether weight decay applies to it.
	Decay []bool
}

// SlotNames returns the names of s's slots, sorted.
func (s State) SlotNames() []string {
	names := make([]string, 0, len(s.Slots))
	for name := range s.Slots {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// checkLoad verifies that s is a state of kind for params, with exactly the named slots (a nil
// entry allowed where allowNil), step counts when steps is set, and a finite learning rate, which
// it returns.
func checkLoad(op, kind string, params []*autograd.Var, s State, steps, allowNil bool, slots ...string) (float32, error) {
	if s.Kind != kind {
		return 0, fmt.Errorf("optim.%s: a state of kind %q, not %q", op, s.Kind, kind)
	}
	lr, ok := s.Hyper["lr"]
	if !ok || math.IsNaN(float64(lr)) || math.IsInf(float64(lr), 0) {
		return 0, fmt.Errorf("optim.%s: state has no finite learning rate \"lr\"", op)
	}
	switch {
	case steps && len(s.Steps) != len(params):
		return 0, fmt.Errorf("optim.%s: state has %d step counts for %d parameters", op, len(s.Steps), len(params))
	case !steps && s.Steps != nil:
		return 0, fmt.Errorf("optim.%s: state has step counts, which %s does not keep", op, kind)
	}
	for i, n := range s.Steps {
		if n < 0 {
			return 0, fmt.Errorf("optim.%s: parameter %d has step count %d", op, i, n)
		}
	}
	if got := s.SlotNames(); !slices.Equal(got, slots) {
		return 0, fmt.Errorf("optim.%s: state has slots %q, want %q", op, got, slots)
	}
	for _, name := range slots {
		ts := s.Slots[name]
		if len(ts) != len(params) {
			return 0, fmt.Errorf("optim.%s: state has %d %s tensors for %d parameters", op, len(ts), name, len(params))
		}
		for i, t := range ts {
			if t == nil {
				if allowNil {
					continue
				}
				return 0, fmt.Errorf("optim.%s: %s tensor %d is missing", op, name, i)
			}
			if !tensor.SameShape(t, params[i].Value) {
				return 0, fmt.Errorf("optim.%s: %s tensor %d has shape %v, parameter has %v", op, name, i, t.Shape(), params[i].Value.Shape())
			}
		}
	}
	return lr, nil
}

// copyOf returns a tensor of shape holding a copy of data, or nil for nil data.
func copyOf(data []float32, shape []int) *tensor.Tensor {
	if data == nil {
		return nil
	}
	return tensor.FromSlice(slices.Clone(data), shape...)
}

// zeroGrad drops the gradients of params.
func zeroGrad(params []*autograd.Var) {
	for _, p := range params {
		p.ZeroGrad()
	}
}

// flag is a bool as a hyperparameter number.
func flag(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
