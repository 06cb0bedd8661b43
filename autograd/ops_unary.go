package autograd

import "github.com/goformer/goformer/tensor"

// Element-wise functions, each with its derivative beside it.

// Exp returns e^a; its derivative is its own output.
func Exp(a *Var) *Var {
	return record("exp", tensor.Exp(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.Mul(out.grad, out.Value)) }
	})
}

// Log returns ln a; d/da = 1/a.
func Log(a *Var) *Var {
	return record("log", tensor.Log(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.Div(out.grad, a.Value)) }
	})
}

// Sqrt returns √a; d/da = 1/(2√a).
func Sqrt(a *Var) *Var {
	return record("sqrt", tensor.Sqrt(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.Div(out.grad, tensor.Scale(out.Value, 2))) }
	})
}

// Tanh returns tanh a; d/da = 1 − tanh².
func Tanh(a *Var) *Var {
	return record("tanh", tensor.Tanh(a.Value), []*Var{a}, func(out *Var) func() {
		return func() {
			oneMinusSq := tensor.AddScalar(tensor.Neg(tensor.Mul(out.Value, out.Value)), 1)
			a.addGrad(tensor.Mul(out.grad, oneMinusSq))
		}
	})
}

// ReLU returns max(a, 0); the derivative is 1 where a > 0, else 0.
func ReLU(a *Var) *Var {
	return record("relu", tensor.ReLU(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.ReLUBackward(out.Value, out.grad)) } // out > 0 exactly where a > 0
	})
}

// GELU returns the exact GELU x·Φ(x) (PyTorch's default, nanoGPT's). The backward pass
// recomputes the derivative from the input rather than keeping it from the forward pass.
func GELU(a *Var) *Var {
	return record("gelu", tensor.GELU(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.GELUBackward(a.Value, out.grad)) }
	})
}

// GELUTanh returns GPT-2's tanh approximation of GELU ("gelu_new").
func GELUTanh(a *Var) *Var {
	return record("gelu_tanh", tensor.GELUTanh(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.GELUTanhBackward(a.Value, out.grad)) }
	})
}
