package autograd

import "github.com/goformer/goformer/tensor"

// Broadcasting arithmetic. An operand that was broadcast receives its gradient summed back over
// the broadcast axes (tensor.SumTo).

// Add returns a + b (broadcasting).
func Add(a, b *Var) *Var {
	return record("add", tensor.Add(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				a.addGrad(unbroadcast(out.grad, a))
			}
			if b.requiresGrad {
				b.addGrad(unbroadcast(out.grad, b))
			}
		}
	})
}

// Sub returns a - b (broadcasting).
func Sub(a, b *Var) *Var {
	return record("sub", tensor.Sub(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				a.addGrad(unbroadcast(out.grad, a))
			}
			if b.requiresGrad {
				b.addGrad(unbroadcast(tensor.Neg(out.grad), b))
			}
		}
	})
}

// Mul returns a * b element-wise (broadcasting).
func Mul(a, b *Var) *Var {
	return record("mul", tensor.Mul(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				a.addGrad(unbroadcast(tensor.Mul(out.grad, b.Value), a))
			}
			if b.requiresGrad {
				b.addGrad(unbroadcast(tensor.Mul(out.grad, a.Value), b))
			}
		}
	})
}

// Div returns a / b element-wise (broadcasting).
func Div(a, b *Var) *Var {
	return record("div", tensor.Div(a.Value, b.Value), []*Var{a, b}, func(out *Var) func() {
		return func() {
			if a.requiresGrad {
				a.addGrad(unbroadcast(tensor.Div(out.grad, b.Value), a))
			}
			if b.requiresGrad {
				// d(a/b)/db = -a/b² = -out/b
				b.addGrad(unbroadcast(tensor.Neg(tensor.Div(tensor.Mul(out.grad, out.Value), b.Value)), b))
			}
		}
	})
}

// Neg returns -a.
func Neg(a *Var) *Var {
	return record("neg", tensor.Neg(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.Neg(out.grad)) }
	})
}

// Scale returns s·a for a constant s.
func Scale(a *Var, s float32) *Var {
	return record("scale", tensor.Scale(a.Value, s), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.Scale(out.grad, s)) }
	})
}

// AddScalar returns a + s for a constant s.
func AddScalar(a *Var, s float32) *Var {
	return record("add_scalar", tensor.AddScalar(a.Value, s), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(out.grad) }
	})
}

// Pow returns a raised element-wise to the constant power p.
func Pow(a *Var, p float32) *Var {
	return record("pow", tensor.Pow(a.Value, p), []*Var{a}, func(out *Var) func() {
		return func() {
			a.addGrad(tensor.Mul(out.grad, tensor.Scale(tensor.Pow(a.Value, p-1), p)))
		}
	})
}
