package autograd

import "github.com/goformer/goformer/tensor"

// The ops that the Llama family of decoders adds to GPT-2's: RMSNorm, SiLU (alone and fused
// with SwiGLU's gating product) and rotary position embeddings.

// RMSNorm normalises x (..., C) over its last axis by its root mean square and scales it by
// weight (C): y = x/√(mean(x²) + eps)·w.
func RMSNorm(x, weight *Var, eps float32) *Var {
	y, rstd := tensor.RMSNorm(x.Value, weight.Value, eps)
	return recordSaving("rms_norm", y, []*Var{x, weight}, []*tensor.Tensor{rstd}, func(out *Var) func() {
		return func() {
			dx, dw := tensor.RMSNormBackward(out.grad, x.Value, weight.Value, rstd)
			x.addGrad(dx)
			weight.addGrad(dw)
		}
	})
}

// SiLU returns a·σ(a) element-wise; the backward pass recomputes σ from the input.
func SiLU(a *Var) *Var {
	return record("silu", tensor.SiLU(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.SiLUBackward(a.Value, out.grad)) }
	})
}

// SiLUMul returns silu(gate)·up element-wise (gate and up of one shape): SwiGLU's gated product
// as one op, the same as Mul(SiLU(gate), up) without the intermediate.
func SiLUMul(gate, up *Var) *Var {
	return record("silu_mul", tensor.SiLUMul(gate.Value, up.Value), []*Var{gate, up}, func(out *Var) func() {
		return func() {
			dg, du := tensor.SiLUMulBackward(gate.Value, up.Value, out.grad)
			gate.addGrad(dg)
			up.addGrad(du)
		}
	})
}

// Rope rotates x (B, T, NH, HS) by the angles of its positions, as tensor.Rope does; cos and sin
// are constant tables (P, HS/2) and pos holds T positions (the same for every row) or B·T.
func Rope(x *Var, cos, sin *tensor.Tensor, pos []int) *Var {
	return record("rope", tensor.Rope(x.Value, cos, sin, pos), []*Var{x}, func(out *Var) func() {
		return func() { x.addGrad(tensor.RopeBackward(out.grad, cos, sin, pos)) }
	})
}
