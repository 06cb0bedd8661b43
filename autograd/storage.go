package autograd

import (
	"fmt"

	"github.com/goformer/goformer/internal/hooks"
	"github.com/goformer/goformer/tensor"
)

// Storage lifetime, behind the scenes. A training step makes the same few dozen big tensors
// every time; giving their storage back to tensor's free lists as soon as nothing can read it
// keeps both the allocation rate and the peak memory down. This file decides when that is:
//
//   - A gradient passed on without a copy (through a reshape, or to both operands of an
//     addition) is shared, not owned: tensor counts the Vars holding each gradient's storage,
//     nothing writes into storage that two hold, and the last to let go recycles it.
//   - A contribution made only to be added into a gradient is recycled once added.
//   - An op's output lets its gradient go once Backward has passed it on, and the tensors its
//     closure saved once that closure has run.
//   - A gradient that Grad handed to a caller is theirs from then on: nothing here writes into
//     it or recycles it, whatever ZeroGrad or the next Backward does.
//   - Values are recycled only by Release, which the owner of a graph calls.

// storage is tensor's bookkeeping of the storage its kernels allocate.
var storage = hooks.Lookup[hooks.Storage[tensor.Tensor]]()

// The optimisers read and scale gradients through here rather than Grad, so that ZeroGrad may
// recycle them afterwards.
func init() {
	hooks.Provide(hooks.Grads[Var, tensor.Tensor]{
		Read: func(v *Var) *tensor.Tensor { return v.grad },
		Write: func(v *Var) *tensor.Tensor {
			if v.grad == nil {
				return nil
			}
			return v.ownGrad()
		},
	})
}

// lifetime is what a Var keeps so that its tensors' storage can be recycled safely.
type lifetime struct {
	// gradHandedOut says Grad has given the gradient to a caller.
	gradHandedOut bool
	// saved are tensors that only backward reads (softmax probabilities, normalisation
	// statistics, masks): recycled once backward has run, or at once when no graph is recorded.
	saved []*tensor.Tensor
}

// unbroadcast returns g summed down to v's shape, for an operand that broadcasting stretched.
func unbroadcast(g *tensor.Tensor, v *Var) *tensor.Tensor {
	r := tensor.SumTo(g, v.Value.Shape())
	if r != g {
		storage.Free(g)
	}
	return r
}

// setGrad makes g the gradient of v, which has none, holding its storage. Gradients are
// contiguous (optimisers read them as slices) and in storage that tensor counts.
func (v *Var) setGrad(g *tensor.Tensor) {
	if !g.IsContiguous() || !storage.Hold(g) {
		c := g.Clone()
		storage.Free(g)
		storage.Hold(c)
		g = c
	}
	v.grad = g
}

// swapGrad replaces v's gradient by fresh, a tensor that nobody holds.
func (v *Var) swapGrad(fresh *tensor.Tensor) {
	v.dropGrad()
	v.setGrad(fresh)
}

// ownGrad returns v's gradient as a buffer that v alone holds, so that the caller may write into
// it: zeros if v has none, a copy if it is shared or was handed out.
func (v *Var) ownGrad() *tensor.Tensor {
	switch {
	case v.grad == nil:
		v.setGrad(tensor.Zeros(v.Value.Shape()...))
	case v.gradHandedOut || storage.Holders(v.grad) > 1:
		v.swapGrad(v.grad.Clone())
	}
	return v.grad
}

// handOutGrad returns v's gradient for a caller to keep. It is unshared first, so that what the
// caller writes into it reaches no other Var.
func (v *Var) handOutGrad() *tensor.Tensor {
	if v.grad != nil && !v.gradHandedOut {
		if storage.Holders(v.grad) > 1 {
			v.swapGrad(v.grad.Clone())
		}
		v.gradHandedOut = true
	}
	return v.grad
}

// dropGrad lets v's gradient go, recycling its storage if nobody else holds it.
func (v *Var) dropGrad() {
	if v.grad != nil && !v.gradHandedOut {
		storage.Drop(v.grad)
	}
	v.grad, v.gradHandedOut = nil, false
}

// passedOn is called once v's closure has sent its gradient on: v needs neither that gradient
// nor its saved tensors any more. The closure cannot run again: a second Backward through v
// panics with a message instead of reading freed storage.
func (v *Var) passedOn() {
	v.dropGrad()
	if v.saved == nil {
		return
	}
	freeAll(v.saved)
	v.saved = nil
	op := v.op
	v.backward = func() {
		panic(fmt.Sprintf("autograd.Backward: the graph through %s was already differentiated and its saved tensors freed; build it again to differentiate it again", op))
	}
}

// recordSaving is record for an op whose backward closure keeps tensors of its own (saved): they
// are recycled once the closure has run, or at once when no graph is recorded.
func recordSaving(op string, value *tensor.Tensor, inputs []*Var, saved []*tensor.Tensor, mk func(out *Var) func()) *Var {
	out := record(op, value, inputs, mk)
	if out.backward == nil {
		freeAll(saved)
	} else {
		out.saved = saved
	}
	return out
}

// freeAll recycles the storage of each tensor in ts that allocated its own and that nobody holds.
func freeAll(ts []*tensor.Tensor) {
	for _, t := range ts {
		storage.Free(t)
	}
}
