package trainloop

import (
	"errors"
	"fmt"
	"math"
)

// Checks collects what is wrong with a program's flags; each check names its flag in the message,
// and Err joins them all, so that one run reports every bad flag.
type Checks struct{ errs []error }

// That records the message unless ok.
func (c *Checks) That(ok bool, format string, args ...any) {
	if !ok {
		c.errs = append(c.errs, fmt.Errorf(format, args...))
	}
}

// Positive checks that each named integer flag is > 0.
func (c *Checks) Positive(flags ...IntFlag) {
	for _, f := range flags {
		c.That(f.V > 0, "%s must be positive, got %d", f.Name, f.V)
	}
}

// NonNegative checks that each named integer flag is >= 0 (sizes and counts where 0 means none
// or a default, -threads among them).
func (c *Checks) NonNegative(flags ...IntFlag) {
	for _, f := range flags {
		c.That(f.V >= 0, "%s must be >= 0, got %d", f.Name, f.V)
	}
}

// LR checks a learning rate: finite and positive (NaN, which every comparison fails, included).
func (c *Checks) LR(name string, v float64) {
	c.That(finite(v) && v > 0, "%s must be positive, got %v", name, v)
}

// NonNegativeFloat checks that a float flag is finite and >= 0.
func (c *Checks) NonNegativeFloat(name string, v float64) {
	c.That(finite(v) && v >= 0, "%s must be >= 0, got %v", name, v)
}

// Probability checks that a float flag is in [0, 1).
func (c *Checks) Probability(name string, v float64) {
	c.That(v >= 0 && v < 1, "%s must be in [0, 1), got %v", name, v)
}

// Err returns every failed check, joined, or nil.
func (c *Checks) Err() error { return errors.Join(c.errs...) }

// IntFlag is an integer flag's name and value.
type IntFlag struct {
	Name string
	V    int
}

// Int returns the IntFlag of flag name with value v.
func Int(name string, v int) IntFlag { return IntFlag{Name: name, V: v} }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
