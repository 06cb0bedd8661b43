package optim

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
)

// CheckFinite returns an error if the loss or any gradient of params is NaN or infinite, naming
// the first parameter (in params order) whose gradient is not finite and where. Call it after
// Backward and before Step: a step with a non-finite gradient writes NaN into every weight it
// touches (and into AdamW's moments, so training never recovers), and a program that goes on to
// save a checkpoint then overwrites its last good one.
func CheckFinite(loss float32, params []*autograd.Var) error {
	if isNonFinite(loss) {
		return fmt.Errorf("optim: loss is %v", loss)
	}
	for i, p := range params {
		g := gradData(p)
		if s := sumSquares(g); !math.IsNaN(s) && !math.IsInf(s, 0) {
			continue // every element is finite: a float32's square cannot overflow a float64
		}
		for j, x := range g {
			if isNonFinite(x) {
				name := p.Name()
				if name == "" {
					name = fmt.Sprintf("parameter %d", i)
				}
				return fmt.Errorf("optim: gradient of %s (shape %v) is %v at element %d (loss %v)", name, p.Shape(), x, j, loss)
			}
		}
	}
	return nil
}

func isNonFinite(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }
