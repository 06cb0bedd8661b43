package trainloop

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
)

// Finite returns an error wrapping ErrDiverged if a value of params is NaN or infinite, naming
// the first such parameter.
func Finite(params []*autograd.Var) error {
	for i, p := range params {
		for j, x := range p.Value.Contiguous().Data() {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				name := p.Name()
				if name == "" {
					name = fmt.Sprintf("parameter %d", i)
				}
				return fmt.Errorf("%w: %s (shape %v) is %v at element %d", ErrDiverged, name, p.Shape(), x, j)
			}
		}
	}
	return nil
}

// SaveFinite calls save only if every value of params is finite; otherwise it returns Finite's
// error and leaves whatever save would have overwritten as it was.
func SaveFinite(params []*autograd.Var, save func() error) error {
	if err := Finite(params); err != nil {
		return fmt.Errorf("not saved: %w", err)
	}
	return save()
}
