package tensor

// GELU and its derivatives, in the two forms GPT code uses. Kernels for autograd's backward
// passes sit beside the forward ones so that each pair can be read (and checked) together.

const (
	sqrt2OverPi   = 0.7978845608028654 // √(2/π)
	geluTanhCubic = 0.044715
	invSqrt2Pi    = 0.3989422804014327 // 1/√(2π)
)

// GELU returns the exact Gaussian error linear unit x·Φ(x) = ½x(1 + erf(x/√2)), PyTorch's
// default and nanoGPT's.
func GELU(a *Tensor) *Tensor {
	return mapSlices(a, func(dst, src []float32) {
		for i, x := range src {
			cdf, _ := normalCDF(x)
			dst[i] = x * cdf
		}
	})
}

// GELUWithDerivative returns GELU(x) and GELU'(x) = Φ(x) + x·φ(x) from one pass (one
// exponential per element), for a training forward pass whose backward needs the derivative.
func GELUWithDerivative(a *Tensor) (y, dydx *Tensor) {
	src := a.Contiguous().Data()
	y, dydx = Zeros(a.shape...), Zeros(a.shape...)
	parallelFor(len(src), 20, func(lo, hi int) {
		yd, dd := y.data[lo:hi], dydx.data[lo:hi]
		for i, x := range src[lo:hi] {
			cdf, gauss := normalCDF(x)
			yd[i] = x * cdf
			dd[i] = cdf + x*invSqrt2Pi*gauss
		}
	})
	return y, dydx
}

// GELUTanhWithDerivative is GELUWithDerivative for the tanh approximation.
func GELUTanhWithDerivative(a *Tensor) (y, dydx *Tensor) {
	src := a.Contiguous().Data()
	y, dydx = Zeros(a.shape...), Zeros(a.shape...)
	parallelFor(len(src), 20, func(lo, hi int) {
		yd, dd := y.data[lo:hi], dydx.data[lo:hi]
		for i, x := range src[lo:hi] {
			u := sqrt2OverPi * (x + geluTanhCubic*x*x*x)
			du := sqrt2OverPi * (1 + 3*geluTanhCubic*x*x)
			s := sigmoidf(2 * u)
			yd[i] = x * s
			dd[i] = s + x*s*(1-s)*2*du
		}
	})
	return y, dydx
}

// GELUTanh returns the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))), GPT-2's
// "gelu_new". It is computed as x·σ(2u), the same function: ½(1 + tanh u) = σ(2u).
func GELUTanh(a *Tensor) *Tensor {
	return mapSlices(a, func(dst, src []float32) {
		for i, x := range src {
			u := sqrt2OverPi * (x + geluTanhCubic*x*x*x)
			dst[i] = x * sigmoidf(2*u)
		}
	})
}

// GELUBackward returns dy·GELU'(x) for the exact form: Φ(x) + x·φ(x).
func GELUBackward(x, dy *Tensor) *Tensor {
	return zipSlices("GELUBackward", x, dy, func(dst, xs, gs []float32) {
		for i, v := range xs {
			cdf, gauss := normalCDF(v)
			dst[i] = gs[i] * (cdf + v*invSqrt2Pi*gauss)
		}
	})
}

// GELUTanhBackward returns dy·d/dx of the tanh approximation x·σ(2u):
// σ(2u) + x·σ(2u)(1 − σ(2u))·2u'.
func GELUTanhBackward(x, dy *Tensor) *Tensor {
	return zipSlices("GELUTanhBackward", x, dy, func(dst, xs, gs []float32) {
		for i, v := range xs {
			u := sqrt2OverPi * (v + geluTanhCubic*v*v*v)
			du := sqrt2OverPi * (1 + 3*geluTanhCubic*v*v)
			s := sigmoidf(2 * u)
			dst[i] = gs[i] * (s + v*s*(1-s)*2*du)
		}
	})
}

// mapSlices runs f over matching chunks of a's elements and a fresh output, in parallel.
func mapSlices(a *Tensor, f func(dst, src []float32)) *Tensor {
	src := a.Contiguous().Data()
	out := Zeros(a.shape...)
	parallelFor(len(src), 20, func(lo, hi int) { f(out.data[lo:hi], src[lo:hi]) })
	return out
}

// zipSlices runs f over matching chunks of two same-shaped tensors and a fresh output.
func zipSlices(op string, a, b *Tensor, f func(dst, as, bs []float32)) *Tensor {
	mustSameShape(op, a, b)
	ad, bd := a.Contiguous().Data(), b.Contiguous().Data()
	out := Zeros(a.shape...)
	parallelFor(len(ad), 20, func(lo, hi int) { f(out.data[lo:hi], ad[lo:hi], bd[lo:hi]) })
	return out
}

func mustSameShape(op string, a, b *Tensor) {
	if !sameShape(a.shape, b.shape) {
		panic("tensor." + op + ": shapes differ: " + shapeStr(a.shape) + " and " + shapeStr(b.shape))
	}
}
