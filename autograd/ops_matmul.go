package autograd

import "github.com/goformer/goformer/tensor"

// Matrix products. For C = A·B the gradients are dA = dC·Bᵀ and dB = Aᵀ·dC; the transposed
// forms let each be computed without materialising a transpose. Broadcast batch axes are summed
// back with SumTo.

// MatMul returns a·b for a (..., M, K), b (..., K, N).
func MatMul(a, b *Var) *Var {
	if flat, ok := flattenForWeight(a, b); ok {
		return flat(MatMul)
	}
	return record("matmul", tensor.MatMul(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				a.addGrad(unbroadcast(tensor.MatMulT(out.grad, b.Value), a)) // dC·Bᵀ
			}
			if b.requiresGrad {
				b.addGrad(unbroadcast(tensor.TMatMul(a.Value, out.grad), b)) // Aᵀ·dC
			}
		}
	})
}

// MatMulT returns a·bᵀ for a (..., M, K), b (..., N, K): a Linear layer with a torch-layout
// weight (out, in), or attention scores q·kᵀ.
func MatMulT(a, b *Var) *Var {
	if flat, ok := flattenForWeight(a, b); ok {
		return flat(MatMulT)
	}
	return record("matmul_t", tensor.MatMulT(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				a.addGrad(unbroadcast(tensor.MatMul(out.grad, b.Value), a)) // dC·B
			}
			if b.requiresGrad {
				b.addGrad(unbroadcast(tensor.TMatMul(out.grad, a.Value), b)) // dCᵀ·A
			}
		}
	})
}

// TMatMul returns aᵀ·b for a (..., K, M), b (..., K, N).
func TMatMul(a, b *Var) *Var {
	return record("t_matmul", tensor.TMatMul(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				a.addGrad(unbroadcast(tensor.MatMulT(b.Value, out.grad), a)) // B·dCᵀ
			}
			if b.requiresGrad {
				b.addGrad(unbroadcast(tensor.MatMul(a.Value, out.grad), b)) // A·dC
			}
		}
	})
}

// flattenForWeight handles the common "activations (B, T, K) times a 2-d weight" case by folding
// the leading axes into rows: (B·T, K)·W is one large product, and W's gradient comes out of one
// product instead of a batch of them summed afterwards.
func flattenForWeight(a, b *Var) (func(op func(a, b *Var) *Var) *Var, bool) {
	shape := a.Value.Shape()
	if len(shape) <= 2 || b.Value.Dims() != 2 {
		return nil, false
	}
	return func(op func(a, b *Var) *Var) *Var {
		k := shape[len(shape)-1]
		out := op(Reshape(a, -1, k), b)
		outShape := append(append([]int(nil), shape[:len(shape)-1]...), out.Value.Dim(-1))
		return unflatten(out, outShape)
	}, true
}

// unflatten gives the rows (B·T, N) of a folded product their shape (B, T, N) back. Without a
// graph (inference) the result takes the product's storage over (tensor.Refold) rather than
// viewing it, so that Discard can recycle it.
func unflatten(out *Var, shape []int) *Var {
	if out.requiresGrad {
		return Reshape(out, shape...)
	}
	return Output(tensor.Refold(out.Value, shape...))
}

// Affine returns x·wᵀ + b for x (..., K), w (N, K) and b (N): a Linear layer with a torch-layout
// weight and a bias, as one op (the bias is written into the output before the product is
// added onto it, instead of a second pass). Gradients: dx = dY·w, dw = dYᵀ·x, db = Σ rows of dY.
func Affine(x, w, b *Var) *Var {
	if shape := x.Value.Shape(); len(shape) > 2 {
		k := shape[len(shape)-1]
		y := Affine(Reshape(x, -1, k), w, b)
		return unflatten(y, append(shape[:len(shape)-1:len(shape)-1], y.Value.Dim(1)))
	}
	return record("affine", tensor.Affine(x.Value, w.Value, b.Value), []*Var{x, w, b}, func(out *Var) func() {
		return func() {
			if x.requiresGrad {
				x.addGrad(tensor.MatMul(out.grad, w.Value)) // dY·w
			}
			if w.requiresGrad {
				w.addGrad(tensor.TMatMul(out.grad, x.Value)) // dYᵀ·x
			}
			if b.requiresGrad {
				b.addGrad(tensor.SumTo(out.grad, b.Value.Shape())) // Σ over rows
			}
		}
	})
}
