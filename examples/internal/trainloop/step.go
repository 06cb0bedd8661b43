package trainloop

import (
	"errors"
	"fmt"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/optim"
)

// ErrDiverged is what Step's and SaveFinite's errors wrap when training has produced a number
// that is not finite.
var ErrDiverged = errors.New("training diverged")

// Stepper takes optimizer steps.
type Stepper struct {
	Opt      optim.Optimizer
	Schedule optim.CosineSchedule // the learning rate of step it is Schedule.LR(it)
	Clip     float32              // the gradients' largest global norm; 0: no clipping
	Accum    int                  // micro-batches per step; 0 or 1: one
	// Gradients, when not nil, is called with the parameters once their gradients are complete,
	// before the finite check and clipping: to record gradient norms, or (a test) to poison one.
	Gradients func(it int, params []*autograd.Var)
}

// Step takes optimizer step it (counting from 0). loss(i) builds micro-batch i's scalar loss on
// the trainable model; Step runs its backward pass, scaled by 1/Accum so that the gradients add
// up to those of the mean loss (as nanoGPT's gradient accumulation), and hands its activations
// back for the next micro-batch to reuse. It returns the mean of the micro-batches' losses.
//
// A loss or gradient that is not finite is an error wrapping ErrDiverged, returned before the
// optimizer step: the weights and the optimizer's state are left as they were, gradients
// dropped. An error from loss is returned as it is, also with the gradients dropped.
func (s *Stepper) Step(it int, loss func(micro int) (*autograd.Var, error)) (float32, error) {
	accum := max(1, s.Accum)
	var sum float32
	for i := range accum {
		l, err := loss(i)
		if err != nil {
			s.Opt.ZeroGrad()
			return 0, err
		}
		sum += l.Item()
		if accum > 1 {
			l = autograd.Scale(l, 1/float32(accum))
		}
		l.Backward()
		autograd.Release(l)
	}
	mean := sum / float32(accum)
	if s.Gradients != nil {
		s.Gradients(it, s.Opt.Params())
	}
	// A non-finite loss or gradient would write NaN into every weight (and AdamW's moments), and
	// a save after it would overwrite the last good model: stop before the step instead.
	if err := optim.CheckFinite(mean, s.Opt.Params()); err != nil {
		s.Opt.ZeroGrad()
		return mean, fmt.Errorf("%w at step %d: %v; stopped before the optimizer step (try a lower learning rate)", ErrDiverged, it, err)
	}
	if s.Clip > 0 {
		optim.ClipGradNorm(s.Opt.Params(), s.Clip)
	}
	s.Opt.SetLR(s.Schedule.LR(it))
	s.Opt.Step()
	s.Opt.ZeroGrad()
	return mean, nil
}
