package autograd

import "github.com/goformer/goformer/tensor"

// Shape operations: views in the forward pass, and the inverse view (or a scatter into zeros)
// in the backward pass.

// Reshape returns a with a new shape (one dimension may be -1). A non-contiguous input is
// copied to contiguous first.
func Reshape(a *Var, shape ...int) *Var {
	in := a.Value.Shape()
	return record("reshape", a.Value.Contiguous().Reshape(shape...), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(out.grad.Reshape(in...)) }
	})
}

// Transpose swaps axes i and j (a view).
func Transpose(a *Var, i, j int) *Var {
	return record("transpose", a.Value.Transpose(i, j), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(out.grad.Transpose(i, j)) }
	})
}

// Permute reorders the axes: output axis i is input axis perm[i] (a view).
func Permute(a *Var, perm ...int) *Var {
	inverse := make([]int, len(perm))
	for i, p := range perm {
		if p >= 0 && p < len(perm) {
			inverse[p] = i
		}
	}
	return record("permute", a.Value.Permute(perm...), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(out.grad.Permute(inverse...)) }
	})
}

// Narrow returns a[..., start:start+length, ...] along axis (a view).
func Narrow(a *Var, axis, start, length int) *Var {
	return record("narrow", a.Value.Narrow(axis, start, length), []*Var{a}, func(out *Var) func() {
		return func() {
			a.ownGrad().Narrow(axis, start, length).AddInPlace(out.grad)
		}
	})
}

// Concat joins Vars along axis.
func Concat(axis int, vs ...*Var) *Var {
	vals := make([]*tensor.Tensor, len(vs))
	sizes := make([]int, len(vs))
	for i, v := range vs {
		vals[i] = v.Value
	}
	value := tensor.Concat(axis, vals...)
	ax := axis
	if ax < 0 {
		ax += value.Dims()
	}
	for i, v := range vs {
		sizes[i] = v.Value.Dim(ax)
	}
	return record("concat", value, vs, func(out *Var) func() {
		return func() {
			for i, g := range tensor.Split(out.grad, ax, sizes...) {
				vs[i].addGrad(g)
			}
		}
	})
}

// Split cuts a along axis into pieces of the given sizes (views); each piece's gradient flows
// back into its slot.
func Split(a *Var, axis int, sizes ...int) []*Var {
	out := make([]*Var, len(sizes))
	start := 0
	for i, s := range sizes {
		out[i] = Narrow(a, axis, start, s)
		start += s
	}
	if start != a.Value.Dim(axis) {
		tensor.Split(a.Value, axis, sizes...) // panics with the shapes
	}
	return out
}

// Unsqueeze inserts an axis of length 1 (a view).
func Unsqueeze(a *Var, axis int) *Var {
	in := a.Value.Shape()
	return record("unsqueeze", a.Value.Unsqueeze(axis), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(out.grad.Reshape(in...)) }
	})
}
