package autograd

import (
	"fmt"

	"github.com/goformer/goformer/tensor"
)

// Var is a node of the computation graph: a value, its gradient, and how to pass the gradient on.
type Var struct {
	// Value is the tensor this Var holds. Optimisers update parameters' values in place.
	Value *tensor.Tensor

	grad         *tensor.Tensor // d(output)/d(Value), with Value's shape; nil until Backward reaches v
	requiresGrad bool
	parents      []*Var
	// backward reads the receiver's gradient and adds into its parents' gradients.
	backward func()
	op       string
	name     string // a model parameter's dotted name (NamedParam), else ""

	lifetime // when the storage of grad and of saved tensors may be recycled (storage.go)
}

// Param returns a leaf Var that requires a gradient: a trainable parameter.
func Param(t *tensor.Tensor) *Var { return &Var{Value: t, requiresGrad: true, op: "param"} }

// NamedParam returns a parameter with a name, as a model's layers get them ("h.0.attn.c_attn.weight").
func NamedParam(name string, t *tensor.Tensor) *Var {
	v := Param(t)
	v.name = name
	return v
}

// Name returns the name NamedParam gave v ("" for other Vars; a Detach keeps it).
func (v *Var) Name() string { return v.name }

// Const returns a leaf Var that needs no gradient: an input or a constant.
func Const(t *tensor.Tensor) *Var { return &Var{Value: t, op: "const"} }

// Output returns a Var holding t, the fresh result of a computation made outside autograd (an
// inference kernel's) that needs no gradient. Unlike a Const's, its value is the Var's own: Discard
// may recycle it.
func Output(t *tensor.Tensor) *Var { return &Var{Value: t, op: "output"} }

// RequiresGrad reports whether gradients flow to this Var.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// Shape returns the value's shape.
func (v *Var) Shape() []int { return v.Value.Shape() }

// Item returns the value of a one-element Var.
func (v *Var) Item() float32 { return v.Value.Item() }

// Op names the operation that produced v ("param", "const", "matmul", ...), for debugging.
func (v *Var) Op() string { return v.op }

// Grad returns d(output)/d(Value) after Backward, with Value's shape; nil before. Only leaves
// (Param) keep a gradient: an op's output lets its own go once Backward has passed it on.
//
// The tensor returned is the caller's to keep: it does not change afterwards, whatever ZeroGrad,
// Release or a later Backward does (a later Backward adds into a new tensor, which the next call
// to Grad returns). Writing into it, say to clip it, does change v's gradient.
func (v *Var) Grad() *tensor.Tensor { return v.handOutGrad() }

// ZeroGrad drops v's gradient: the next Backward starts it from zero.
func (v *Var) ZeroGrad() { v.dropGrad() }

// Detach returns a constant Var sharing v's value, cut off from the graph.
func (v *Var) Detach() *Var {
	c := Const(v.Value)
	c.name = v.name
	return c
}

// String describes the Var briefly.
func (v *Var) String() string {
	return fmt.Sprintf("Var(%s %v)", v.op, v.Value.Shape())
}

// record builds an op's output Var. If any input requires a gradient, the output does too: it
// remembers its inputs and the backward closure made by mk (which receives the output, so that
// the closure can read out.grad).
func record(op string, value *tensor.Tensor, inputs []*Var, mk func(out *Var) func()) *Var {
	out := &Var{Value: value, op: op}
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

// Backward computes the gradient of v, a one-element Var (usually a loss), with respect to every
// Var it depends on, adding into their gradients. It panics if v does not require grad (it
// depends on no parameter, as a loss computed on a frozen view).
func (v *Var) Backward() {
	if v.Value.Size() != 1 {
		panic(fmt.Sprintf("autograd.Backward: output of shape %v is not a scalar; use BackwardWith", v.Value.Shape()))
	}
	v.backwardFrom(tensor.Full(1, v.Value.Shape()...))
}

// BackwardWith is Backward for a non-scalar output, seeded with the given output gradient
// (d(loss)/d(v) for some loss built on top of v). The seed is copied, never kept.
func (v *Var) BackwardWith(seed *tensor.Tensor) {
	if !tensor.SameShape(seed, v.Value) {
		panic(fmt.Sprintf("autograd.BackwardWith: seed of shape %v for an output of shape %v", seed.Shape(), v.Value.Shape()))
	}
	v.backwardFrom(seed.Clone())
}

// backwardFrom is micrograd's backward(): sort the graph topologically, then visit it once in
// reverse, each op adding into its inputs' gradients. As in PyTorch, only leaves keep their
// gradients: an op's output lets its gradient go once it has passed it on.
func (v *Var) backwardFrom(seed *tensor.Tensor) {
	if !v.requiresGrad {
		// A programmer error, as in PyTorch ("element 0 of tensors does not require grad"): a
		// silent no-op would let a training loop on a frozen view run without ever learning.
		panic(fmt.Sprintf("autograd.Backward: the %s output does not require grad: it depends on no parameter that records gradients (constants only, or a model's frozen view: Frozen, Snapshot and Compact record no graph)", v.op))
	}
	topo := topoSort(v)
	v.addGrad(seed)
	for i := len(topo) - 1; i >= 0; i-- {
		n := topo[i]
		if n.backward != nil && n.grad != nil {
			n.backward()
			n.passedOn()
		}
	}
}

// addGrad adds g, one contribution to v's gradient, into it: micrograd's `v.grad += g`. Summing
// is what makes a value used twice right. The first contribution is kept as the gradient itself
// (usually the only one); a gradient shared with another Var or handed to a caller is never
// written into, so the sum goes to a new tensor. g, made only to be added, is recycled
// afterwards (storage.go).
func (v *Var) addGrad(g *tensor.Tensor) {
	if !tensor.SameShape(g, v.Value) {
		panic(fmt.Sprintf("autograd: gradient of shape %v for %s of shape %v", g.Shape(), v.op, v.Value.Shape()))
	}
	switch {
	case !v.requiresGrad:
	case v.grad == nil:
		v.setGrad(g) // v.grad = g
		return
	case v.gradHandedOut || storage.Holders(v.grad) > 1:
		v.swapGrad(tensor.Add(v.grad, g)) // v.grad = v.grad + g
	default:
		v.grad.AddInPlace(g) // v.grad += g
	}
	storage.Free(g)
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
