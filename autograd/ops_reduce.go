package autograd

import "github.com/goformer/goformer/tensor"

// Reductions. Their gradient broadcasts the output gradient back over the reduced axis.

// Sum sums over axis (keepdim keeps it with length 1).
func Sum(a *Var, axis int, keepdim bool) *Var {
	return record("sum", tensor.Sum(a.Value, axis, keepdim), []*Var{a}, func(out *Var) func() {
		return func() { a.accumulate(expandBack(out.Grad, a.Value, axis, keepdim, 1), true) }
	})
}

// Mean averages over axis.
func Mean(a *Var, axis int, keepdim bool) *Var {
	return record("mean", tensor.Mean(a.Value, axis, keepdim), []*Var{a}, func(out *Var) func() {
		return func() {
			n := float32(a.Value.Dim(axis))
			a.accumulate(expandBack(out.Grad, a.Value, axis, keepdim, 1/n), true)
		}
	})
}

// SumAll sums every element into a scalar.
func SumAll(a *Var) *Var {
	return record("sum_all", tensor.SumAll(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.accumulate(tensor.Full(out.Grad.Item(), a.Value.Shape()...), true) }
	})
}

// MeanAll averages every element into a scalar.
func MeanAll(a *Var) *Var {
	return record("mean_all", tensor.MeanAll(a.Value), []*Var{a}, func(out *Var) func() {
		return func() {
			g := out.Grad.Item() / float32(a.Value.Size())
			a.accumulate(tensor.Full(g, a.Value.Shape()...), true)
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
