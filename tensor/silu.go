package tensor

import "github.com/goformer/goformer/internal/vecmath"

// SiLU (also called swish), silu(x) = x·σ(x), the activation of the Llama family's gated
// feed-forward (SwiGLU), and its derivative silu'(x) = σ(x)·(1 + x·(1 − σ(x))). The sigmoid is
// 1/(1 + e^−x), with the exponential from vecmath's vector kernel; each kernel below works in
// blocks of siluBlock elements whose sigmoids sit in a scratch block that stays in L1.

// siluBlock is how many elements the SiLU kernels handle at a time (4 KiB of scratch).
const siluBlock = 1024

// siluCost is the cost per element forBlocks gives parallelFor.
const siluCost = 8

// sigmoidInto sets sig[i] = σ(x[i]) = 1/(1 + e^−x[i]); e^−x overflowing to +Inf gives 0.
func sigmoidInto(sig, x []float32) { vecmath.Sigmoid(sig, x) }

// forBlocks runs f over blocks of at most siluBlock of n elements, in parallel, with a scratch
// block for the sigmoids.
func forBlocks(n int, f func(lo, hi int, sig []float32)) {
	parallelFor(n, siluCost, func(lo, hi int) {
		var scratch [siluBlock]float32
		for b := lo; b < hi; b += siluBlock {
			e := min(b+siluBlock, hi)
			f(b, e, scratch[:e-b])
		}
	})
}

// SiLU returns x·σ(x) element-wise.
func SiLU(x *Tensor) *Tensor {
	src := x.Contiguous().Data()
	out := uninit(x.shape...)
	forBlocks(len(src), func(lo, hi int, sig []float32) {
		sigmoidInto(sig, src[lo:hi])
		vecmath.Mul(out.data[lo:hi], src[lo:hi], sig)
	})
	return out
}

// SiLUBackward returns dy·silu'(x), recomputing σ(x) rather than keeping it from the forward
// pass.
func SiLUBackward(x, dy *Tensor) *Tensor {
	mustSameShape("SiLUBackward", x, dy)
	src, g := x.Contiguous().Data(), dy.Contiguous().Data()
	out := uninit(x.shape...)
	forBlocks(len(src), func(lo, hi int, sig []float32) {
		sigmoidInto(sig, src[lo:hi])
		var d [siluBlock]float32
		siluDerivInto(d[:hi-lo], src[lo:hi], sig)
		vecmath.Mul(out.data[lo:hi], g[lo:hi], d[:hi-lo])
	})
	return out
}

// siluDeriv is silu'(x) given s = σ(x).
func siluDeriv(x, s float32) float32 { return s * (1 + x*(1-s)) }

// siluDerivInto sets d[i] = siluDeriv(x[i], s[i]), the same roundings in vector passes: 1 − s,
// x·(1 − s), 1 + that, s·that.
func siluDerivInto(d, x, s []float32) {
	vecmath.SubScale(d, s, 1, -1) // (s − 1)·−1 = 1 − s, exactly
	vecmath.Mul(d, x, d)
	vecmath.SubScale(d, d, -1, 1) // + 1
	vecmath.Mul(d, s, d)
}

// SiLUMul returns silu(gate)·up element-wise, SwiGLU's gated product, in one pass and without
// the intermediate silu(gate) that the composition SiLU then Mul would allocate.
func SiLUMul(gate, up *Tensor) *Tensor {
	mustSameShape("SiLUMul", gate, up)
	gd, ud := gate.Contiguous().Data(), up.Contiguous().Data()
	out := uninit(gate.shape...)
	forBlocks(len(gd), func(lo, hi int, sig []float32) { siluMulBlock(out.data[lo:hi], gd[lo:hi], ud[lo:hi], sig) })
	return out
}

// SiLUMulBackward returns the gradients of SiLUMul with respect to gate and up, given the output
// gradient dy: dgate = dy·up·silu'(gate), dup = dy·silu(gate).
func SiLUMulBackward(gate, up, dy *Tensor) (dgate, dup *Tensor) {
	mustSameShape("SiLUMulBackward", gate, up)
	mustSameShape("SiLUMulBackward", gate, dy)
	gd, ud, g := gate.Contiguous().Data(), up.Contiguous().Data(), dy.Contiguous().Data()
	dgate, dup = uninit(gate.shape...), uninit(gate.shape...)
	forBlocks(len(gd), func(lo, hi int, sig []float32) {
		n := hi - lo
		x, gg, dg, du := gd[lo:hi], g[lo:hi], dgate.data[lo:hi], dup.data[lo:hi]
		sigmoidInto(sig, x)
		var d, t [siluBlock]float32
		siluDerivInto(d[:n], x, sig)
		vecmath.Mul(t[:n], gg, ud[lo:hi]) // dgate = (dy·up)·silu'(gate)
		vecmath.Mul(dg, t[:n], d[:n])
		vecmath.Mul(t[:n], x, sig) // dup = dy·silu(gate)
		vecmath.Mul(du, gg, t[:n])
	})
	return dgate, dup
}
