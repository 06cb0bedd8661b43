package nn

import "math/rand/v2"

// Mode is the training state shared by the layers of one model.
type Mode struct {
	// Training enables dropout.
	Training bool
	// RNG draws dropout masks. It must be set when any dropout probability is non-zero.
	RNG *rand.Rand
}
