package tensor

import "github.com/goformer/goformer/internal/vecmath"

// GELU and its derivatives, in the two forms GPT code uses. The element-wise work runs in
// internal/vecmath's vectorised kernels; the backward kernels sit beside the forward ones so
// that each pair can be read (and checked) together.

// GELU returns the exact Gaussian error linear unit x·Φ(x) = ½x(1 + erf(x/√2)), PyTorch's
// default and nanoGPT's.
func GELU(a *Tensor) *Tensor { return mapSlices(a, vecmath.GELU) }

// GELUTanh returns the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))), GPT-2's
// "gelu_new".
func GELUTanh(a *Tensor) *Tensor { return mapSlices(a, vecmath.GELUTanh) }

// GELUWithDerivative returns GELU(x) and GELU'(x) = Φ(x) + x·φ(x) from one pass (one
// exponential per element), for a training forward pass whose backward needs the derivative.
func GELUWithDerivative(a *Tensor) (y, dydx *Tensor) {
	return mapSlices2(a, vecmath.GELUWithDerivative)
}

// GELUTanhWithDerivative is GELUWithDerivative for the tanh approximation.
func GELUTanhWithDerivative(a *Tensor) (y, dydx *Tensor) {
	return mapSlices2(a, vecmath.GELUTanhWithDerivative)
}

// GELUBackward returns dy·GELU'(x) for the exact form.
func GELUBackward(x, dy *Tensor) *Tensor {
	return geluBackward("GELUBackward", x, dy, vecmath.GELUWithDerivative)
}

// GELUTanhBackward returns dy·d/dx of the tanh approximation.
func GELUTanhBackward(x, dy *Tensor) *Tensor {
	return geluBackward("GELUTanhBackward", x, dy, vecmath.GELUTanhWithDerivative)
}

// geluBackward recomputes the derivative (cheap with the vector kernels, and it spares the
// forward pass from keeping a tensor as large as its input) and multiplies it by dy, in one pass:
// each worker takes its elements in blocks of geluBlock, whose GELU values (computed alongside,
// not needed) go to a scratch block that stays in L1.
func geluBackward(op string, x, dy *Tensor, withDerivative func(y, dydx, src []float32)) *Tensor {
	mustSameShape(op, x, dy)
	src := x.Contiguous().Data()
	g := dy.Contiguous().Data()
	d := uninit(x.shape...)
	parallelFor(len(src), 6, func(lo, hi int) {
		var scratch [geluBlock]float32
		for b := lo; b < hi; b += geluBlock {
			e := min(b+geluBlock, hi)
			withDerivative(scratch[:e-b], d.data[b:e], src[b:e])
			vecmath.Mul(d.data[b:e], d.data[b:e], g[b:e])
		}
	})
	return d
}

// geluBlock is how many elements geluBackward handles at a time (4 KiB of scratch).
const geluBlock = 1024

// mapSlices runs a slice kernel over matching chunks of a's elements and a fresh output, in
// parallel.
func mapSlices(a *Tensor, f func(dst, src []float32)) *Tensor {
	src := a.Contiguous().Data()
	out := uninit(a.shape...)
	parallelFor(len(src), 4, func(lo, hi int) { f(out.data[lo:hi], src[lo:hi]) })
	return out
}

// mapSlices2 is mapSlices for a kernel with two outputs.
func mapSlices2(a *Tensor, f func(y, z, src []float32)) (y, z *Tensor) {
	src := a.Contiguous().Data()
	y, z = uninit(a.shape...), uninit(a.shape...)
	parallelFor(len(src), 4, func(lo, hi int) { f(y.data[lo:hi], z.data[lo:hi], src[lo:hi]) })
	return y, z
}

func mustSameShape(op string, a, b *Tensor) {
	if !sameShape(a.shape, b.shape) {
		panic("tensor." + op + ": shapes differ: " + shapeStr(a.shape) + " and " + shapeStr(b.shape))
	}
}
