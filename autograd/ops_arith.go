package autograd

import "github.com/goformer/goformer/tensor"

// Broadcasting arithmetic. An operand that was broadcast receives its gradient summed back over
// the broadcast axes (tensor.SumTo).

// Add returns a + b (broadcasting).
func Add(a, b *Var) *Var {
	return record("add", tensor.Add(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			sendReduced(a, out.Grad)
			sendReduced(b, out.Grad)
		}
	})
}

// Sub returns a - b (broadcasting).
func Sub(a, b *Var) *Var {
	return record("sub", tensor.Sub(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			sendReduced(a, out.Grad)
			if b.requiresGrad {
				sendReducedOwned(b, tensor.Neg(out.Grad))
			}
		}
	})
}

// Mul returns a * b element-wise (broadcasting).
func Mul(a, b *Var) *Var {
	return record("mul", tensor.Mul(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				sendReducedOwned(a, tensor.Mul(out.Grad, b.Value))
			}
			if b.requiresGrad {
				sendReducedOwned(b, tensor.Mul(out.Grad, a.Value))
			}
		}
	})
}

// Div returns a / b element-wise (broadcasting).
func Div(a, b *Var) *Var {
	return record("div", tensor.Div(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				sendReducedOwned(a, tensor.Div(out.Grad, b.Value))
			}
			if b.requiresGrad {
				// d(a/b)/db = -a/b² = -out/b
				sendReducedOwned(b, tensor.Neg(tensor.Div(tensor.Mul(out.Grad, out.Value), b.Value)))
			}
		}
	})
}

// Neg returns -a.
func Neg(a *Var) *Var {
	return record("neg", tensor.Neg(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.accumulate(tensor.Neg(out.Grad), true) }
	})
}

// Scale returns s·a for a constant s.
func Scale(a *Var, s float32) *Var {
	return record("scale", tensor.Scale(a.Value, s), []*Var{a}, func(out *Var) func() {
		return func() { a.accumulate(tensor.Scale(out.Grad, s), true) }
	})
}

// AddScalar returns a + s for a constant s.
func AddScalar(a *Var, s float32) *Var {
	return record("add_scalar", tensor.AddScalar(a.Value, s), []*Var{a}, func(out *Var) func() {
		return func() { a.accumulate(out.Grad, false) }
	})
}

// Pow returns a raised element-wise to the constant power p.
func Pow(a *Var, p float32) *Var {
	return record("pow", tensor.Pow(a.Value, p), []*Var{a}, func(out *Var) func() {
		return func() {
			a.accumulate(tensor.Mul(out.Grad, tensor.Scale(tensor.Pow(a.Value, p-1), p)), true)
		}
	})
}

// sendReduced passes g to v, summed down to v's shape if v was broadcast.
func sendReduced(v *Var, g *tensor.Tensor) {
	if !v.requiresGrad {
		return
	}
	r := tensor.SumTo(g, v.Value.Shape())
	v.accumulate(r, r != g)
}

// sendReducedOwned is sendReduced for a g that the caller allocated and gives away.
func sendReducedOwned(v *Var, g *tensor.Tensor) {
	r := tensor.SumTo(g, v.Value.Shape())
	if r != g {
		tensor.ReleaseStorage(g) // summed into r
	}
	v.accumulate(r, true)
}
