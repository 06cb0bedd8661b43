package autograd

import "github.com/goformer/goformer/tensor"

// Reductions. Their gradient broadcasts the output gradient back over the reduced axis.

// Sum sums over axis (keepdim keeps it with length 1).
func Sum(a *Var, axis int, keepdim bool) *Var {
	return record("sum", tensor.Sum(a.Value, axis, keepdim), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(expandBack(out.grad, a.Value, axis, keepdim, 1)) }
	})
}

// Mean averages over axis.
func Mean(a *Var, axis int, keepdim bool) *Var {
	return record("mean", tensor.Mean(a.Value, axis, keepdim), []*Var{a}, func(out *Var) func() {
		return func() {
			n := float32(a.Value.Dim(axis))
			a.addGrad(expandBack(out.grad, a.Value, axis, keepdim, 1/n))
		}
	})
}

// SumAll sums every element into a scalar.
func SumAll(a *Var) *Var {
	return record("sum_all", tensor.SumAll(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.Full(out.grad.Item(), a.Value.Shape()...)) }
	})
}

// MeanAll averages every element into a scalar.
func MeanAll(a *Var) *Var {
	return record("mean_all", tensor.MeanAll(a.Value), []*Var{a}, func(out *Var) func() {
		return func() {
			g := out.grad.Item() / float32(a.Value.Size())
			a.addGrad(tensor.Full(g, a.Value.Shape()...))
		}
	})
}

// expandBack broadcasts a reduction's output gradient g back to in's shape, times scale.
func expandBack(g, in *tensor.Tensor, axis int, keepdim bool, scale float32) *tensor.Tensor {
	if !keepdim {
		if axis < 0 {
			axis += in.Dims()
		}
		g = g.Unsqueeze(axis)
	}
	return tensor.Scale(g.Expand(in.Shape()...), scale)
}
