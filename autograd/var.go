package autograd

import (
	"fmt"
	"sync/atomic"

	"github.com/goformer/goformer/tensor"
)

// Var is a node of the computation graph: a value, its gradient, and how to pass the gradient on.
type Var struct {
	// Value is the tensor this Var holds. Optimisers update parameters' values in place.
	Value *tensor.Tensor
	// Grad is d(output)/d(Value) after Backward, with Value's shape; nil before. Only leaves
	// (Param) keep it: an op's output drops its gradient once Backward has passed it on.
	Grad *tensor.Tensor

	requiresGrad bool
	// gradShared says Grad's storage may also be another Var's gradient (passed on without a
	// copy), so it must be copied before anything adds into it.
	gradShared bool
	parents    []*Var
	// backward reads the receiver's Grad and accumulates into its parents' gradients.
	backward func()
	// saved are tensors that only backward reads (softmax probabilities, normalisation
	// statistics, masks): they are recycled as soon as backward has run, or at once when no
	// graph is recorded.
	saved []*tensor.Tensor
	op    string
	name  string // a model parameter's dotted name (NamedParam), else ""
}

// Param returns a leaf Var that requires a gradient: a trainable parameter.
func Param(t *tensor.Tensor) *Var { return &Var{Value: t, requiresGrad: true, op: "param"} }

// NamedParam returns a parameter with a name, as a model's layers get them ("h.0.attn.c_attn.weight").
func NamedParam(name string, t *tensor.Tensor) *Var {
	return &Var{Value: t, requiresGrad: true, op: "param", name: name}
}

// Name returns the name NamedParam gave v ("" for other Vars; a Detach keeps it).
func (v *Var) Name() string { return v.name }

// Const returns a leaf Var that needs no gradient: an input or a constant.
func Const(t *tensor.Tensor) *Var { return &Var{Value: t, op: "const"} }

// RequiresGrad reports whether gradients flow to this Var.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// Shape returns the value's shape.
func (v *Var) Shape() []int { return v.Value.Shape() }

// Item returns the value of a one-element Var.
func (v *Var) Item() float32 { return v.Value.Item() }

// Op names the operation that produced v ("param", "const", "matmul", ...), for debugging.
func (v *Var) Op() string { return v.op }

// Detach returns a constant Var sharing v's value, cut off from the graph.
func (v *Var) Detach() *Var {
	c := Const(v.Value)
	c.name = v.name
	return c
}

// ZeroGrad drops v's gradient (the next Backward starts it from zero). Its storage goes back to
// tensor's free lists, where the next Backward finds it: a reference to the old Grad must not be
// used afterwards (reading it panics).
func (v *Var) ZeroGrad() {
	if v.Grad != nil && !v.gradShared {
		tensor.ReleaseStorage(v.Grad)
	}
	v.Grad, v.gradShared = nil, false
}

// String describes the Var briefly.
func (v *Var) String() string {
	return fmt.Sprintf("Var(%s %v)", v.op, v.Value.Shape())
}

// accumulate adds g into v's gradient. owned says g is a fresh tensor nobody else holds. A
// tensor that is not owned (say, the output's gradient passed straight through an addition or a
// reshape) is kept without a copy as long as nothing adds to it: the copy is made on the second
// contribution, if one comes.
func (v *Var) accumulate(g *tensor.Tensor, owned bool) {
	if !v.requiresGrad {
		return
	}
	if !tensor.SameShape(g, v.Value) {
		panic(fmt.Sprintf("autograd: gradient of shape %v for %s of shape %v", g.Shape(), v.op, v.Value.Shape()))
	}
	switch {
	case v.Grad == nil && g.IsContiguous():
		v.Grad, v.gradShared = g, !owned
	case v.Grad == nil:
		v.Grad, v.gradShared = g.Clone(), false
	case v.gradShared:
		v.Grad, v.gradShared = tensor.Add(v.Grad, g), false
		if owned {
			tensor.ReleaseStorage(g) // added in, and nobody else holds it
		}
	default:
		v.Grad.AddInPlace(g)
		if owned {
			tensor.ReleaseStorage(g)
		}
	}
}

// ownGrad returns v's gradient buffer, allocating zeros or copying a shared one first, so that
// the caller may add into it in place.
func (v *Var) ownGrad() *tensor.Tensor {
	switch {
	case v.Grad == nil:
		v.Grad = tensor.Zeros(v.Value.Shape()...)
	case v.gradShared:
		v.Grad = v.Grad.Clone()
	}
	v.gradShared = false
	return v.Grad
}

// Backward computes the gradient of v, a one-element Var (usually a loss), with respect to every
// Var it depends on, accumulating into their Grad.
func (v *Var) Backward() {
	if v.Value.Size() != 1 {
		panic(fmt.Sprintf("autograd.Backward: output of shape %v is not a scalar; use BackwardWith", v.Value.Shape()))
	}
	v.BackwardWith(tensor.Full(1, v.Value.Shape()...))
}

// BackwardWith is Backward for a non-scalar output, seeded with the given output gradient
// (d(loss)/d(v) for some loss built on top of v).
func (v *Var) BackwardWith(grad *tensor.Tensor) {
	if !v.requiresGrad {
		panic("autograd.Backward: output does not depend on any parameter (or was built under NoGrad)")
	}
	order := topoSort(v)
	// The seed is copied so that the caller's tensor is never recycled below.
	v.accumulate(grad.Clone(), true)
	// Passed on, an intermediate gradient is garbage, as in PyTorch, where only leaves keep
	// theirs. Recycling it as soon as no Var holds its storage any more (parents may have kept
	// it without a copy) lets the rest of the sweep reuse it, which keeps peak memory down.
	held := map[*float32]*heldGrad{}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if n.backward == nil || n.Grad == nil {
			continue
		}
		n.backward()
		n.freeSaved()
		key := tensor.StorageKey(n.Grad)
		h := held[key]
		if h == nil {
			h = &heldGrad{owner: n.Grad, holders: 1}
			held[key] = h
		}
		for _, p := range n.parents {
			if p.gradShared && tensor.SharesStorage(p.Grad, n.Grad) {
				h.holders++
			}
		}
		n.Grad, n.gradShared = nil, false
		if h.holders--; h.holders == 0 {
			tensor.ReleaseStorage(h.owner)
			delete(held, key)
		}
	}
	// Leaves hand their gradients to optimisers, which scale and read them in place: give each
	// its own storage. After that no Var holds what is left in held.
	for _, n := range order {
		if n.backward == nil && n.gradShared {
			n.ownGrad()
		}
	}
	for _, h := range held {
		tensor.ReleaseStorage(h.owner)
	}
}

// heldGrad counts the Vars holding one gradient storage during a backward sweep. The count
// may be too high (a parent that copied on a later write still counts), which only delays
// recycling to the end of the sweep; it is never too low.
type heldGrad struct {
	owner   *tensor.Tensor // a Var's gradient on the storage (the storage's allocator or a view of it)
	holders int
}

// topoSort returns the Vars that v depends on (and that require gradients), parents before
// children. It walks iteratively so that deep graphs cannot overflow the stack.
func topoSort(v *Var) []*Var {
	var order []*Var
	visited := map[*Var]bool{v: true}
	type frame struct {
		v    *Var
		next int
	}
	stack := []frame{{v: v}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next < len(top.v.parents) {
			p := top.v.parents[top.next]
			top.next++
			if p.requiresGrad && !visited[p] {
				visited[p] = true
				stack = append(stack, frame{v: p})
			}
			continue
		}
		order = append(order, top.v)
		stack = stack[:len(stack)-1]
	}
	return order
}

var gradDisabled atomic.Int32

// NoGrad runs f with gradient recording switched off (for inference and evaluation). Calls nest.
func NoGrad(f func()) {
	gradDisabled.Add(1)
	defer gradDisabled.Add(-1)
	f()
}

// GradEnabled reports whether ops currently record the graph.
func GradEnabled() bool { return gradDisabled.Load() == 0 }

// recordSaving is record for an op whose backward closure keeps tensors of its own (saved): they
// are recycled once the closure has run, or at once when no graph is recorded for the op.
func recordSaving(op string, value *tensor.Tensor, inputs []*Var, saved []*tensor.Tensor, mk func(out *Var) func()) *Var {
	out := record(op, value, inputs, mk)
	if out.backward == nil {
		tensor.Release(saved...)
	} else {
		out.saved = saved
	}
	return out
}

// freeSaved recycles the tensors n's backward kept, which leaves the closure unable to run
// again: a second Backward through n panics with a message instead of reading freed storage.
func (n *Var) freeSaved() {
	if n.saved == nil {
		return
	}
	tensor.Release(n.saved...)
	n.saved = nil
	op := n.op
	n.backward = func() {
		panic(fmt.Sprintf("autograd.Backward: the graph through %s was already differentiated and its saved tensors freed; build it again to differentiate it again", op))
	}
}

// record builds an op's output Var. If gradients are enabled and any input requires one, the
// output remembers its inputs and the backward closure made by mk (which receives the output so
// that it can read out.Grad).
func record(op string, value *tensor.Tensor, inputs []*Var, mk func(out *Var) func()) *Var {
	out := &Var{Value: value, op: op}
	if !GradEnabled() {
		return out
	}
	for _, in := range inputs {
		if in.requiresGrad {
			out.requiresGrad = true
			break
		}
	}
	if out.requiresGrad {
		out.parents = inputs
		out.backward = mk(out)
	}
	return out
}
