package nn

import (
	"math/rand/v2"

	"github.com/goformer/goformer/autograd"
)

// Param is a named parameter.
type Param struct {
	Name string
	Var  *autograd.Var
}

// Module is anything with parameters. Params appends its parameters to dst, each name prefixed
// by prefix (e.g. "h.0.attn."), in a fixed order.
type Module interface {
	Params(prefix string, dst []Param) []Param
}

// Mode is the training state shared by the layers of one model.
type Mode struct {
	// Training enables dropout.
	Training bool
	// RNG draws dropout masks. It must be set when any dropout probability is non-zero.
	RNG *rand.Rand
}
