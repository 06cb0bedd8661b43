package checkpoint

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// Model is a model a checkpoint can hold: *model.GPT and *model.Transformer are. Each kind has its
// constructor on Checkpoint (GPT, Transformer), which builds it from the checkpoint's config and tensors.
type Model interface {
	// Parameters returns the model's parameters, each named (Var.Name), in a fixed order.
	Parameters() []*autograd.Var
	// DropoutRNG returns the generator the dropout masks are drawn from; nil for a frozen
	// view, which has no training state.
	DropoutRNG() *rand.PCG
}

// kind is what a checkpoint needs to know of one kind of model beyond Model: its config, and how
// to build one from its description. Adding a kind of model is adding one of these and its
// constructor method.
type kind struct {
	name string
	// config returns m's config, saved as JSON, and false if m is not of this kind.
	config func(m Model) (any, bool)
	// same returns an error if the stored config describes another architecture than m's
	// (settings that a resumed run may change, such as dropout, aside).
	same func(stored json.RawMessage, m Model) error
	// build builds a model of the stored config, its parameters from src. stored is the number
	// of parameter values the tensor file holds: a config that claims more is refused before
	// anything of its size is built.
	build func(stored json.RawMessage, values int64, src nn.Source) (Model, error)
}

// describe returns m's kind and config.
func describe(m Model) (*kind, any, error) {
	if isNil(m) {
		return nil, nil, fmt.Errorf("no model (%T(nil))", m)
	}
	for i := range kinds {
		if cfg, ok := kinds[i].config(m); ok {
			return &kinds[i], cfg, nil
		}
	}
	return nil, nil, fmt.Errorf("cannot checkpoint a %T", m)
}

// kindNamed returns the kind called name, or nil.
func kindNamed(name string) *kind {
	for i := range kinds {
		if kinds[i].name == name {
			return &kinds[i]
		}
	}
	return nil
}
