// Package trainloop is the training step that every example that trains shares
// (examples/shakespeare, examples/translate through examples/internal/dates, examples/lessons),
// so that none of them lacks a guard the others have:
//
//	st := trainloop.Stepper{Opt: opt, Schedule: sched, Clip: 1, Accum: 1}
//	for it := range steps {
//		loss, err := st.Step(it, func(int) (*autograd.Var, error) { return m.Loss(x, y, b, t) })
//		if err != nil {
//			return err // a non-finite loss or gradient: the weights are as before the step
//		}
//	}
//	err := trainloop.SaveFinite(m.Parameters(), func() error { return save(m) })
//
// A step is nanoGPT's: the micro-batches' gradients add up to those of their mean loss, then the
// divergence guard (optim.CheckFinite, before the optimizer touches anything), clipping, the
// scheduled learning rate, the optimizer step. SaveFinite writes nothing from non-finite
// weights, so a run that diverged never overwrites a good saved model. Checks collects what is
// wrong with a program's flags, each message naming its flag.
package trainloop
