package tensor

import "math"

// GELU and its derivatives, in the two forms GPT code uses. Kernels for autograd's backward
// passes sit beside the forward ones so that each pair can be read (and checked) together.

const (
	sqrt2         = math.Sqrt2
	sqrt2OverPi   = 0.7978845608028654 // √(2/π)
	geluTanhCubic = 0.044715
	invSqrt2Pi    = 0.3989422804014327 // 1/√(2π)
)

// GELU returns the exact Gaussian error linear unit x·Φ(x) = ½x(1 + erf(x/√2)), PyTorch's
// default and nanoGPT's.
func GELU(a *Tensor) *Tensor {
	return unary(a, 20, func(x float32) float32 {
		v := float64(x)
		return float32(0.5 * v * (1 + math.Erf(v/sqrt2)))
	})
}

// GELUTanh returns the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))), GPT-2's
// "gelu_new".
func GELUTanh(a *Tensor) *Tensor {
	return unary(a, 20, func(x float32) float32 {
		v := float64(x)
		return float32(0.5 * v * (1 + math.Tanh(sqrt2OverPi*(v+geluTanhCubic*v*v*v))))
	})
}

// GELUBackward returns dy·GELU'(x) for the exact form: Φ(x) + x·φ(x).
func GELUBackward(x, dy *Tensor) *Tensor {
	return zipSameShape("GELUBackward", x, dy, func(xv, g float32) float32 {
		v := float64(xv)
		cdf := 0.5 * (1 + math.Erf(v/sqrt2))
		pdf := invSqrt2Pi * math.Exp(-0.5*v*v)
		return g * float32(cdf+v*pdf)
	})
}

// GELUTanhBackward returns dy·d/dx of the tanh approximation.
func GELUTanhBackward(x, dy *Tensor) *Tensor {
	return zipSameShape("GELUTanhBackward", x, dy, func(xv, g float32) float32 {
		v := float64(xv)
		u := sqrt2OverPi * (v + geluTanhCubic*v*v*v)
		th := math.Tanh(u)
		du := sqrt2OverPi * (1 + 3*geluTanhCubic*v*v)
		return g * float32(0.5*(1+th)+0.5*v*(1-th*th)*du)
	})
}

// zipSameShape applies f to paired elements of two same-shaped tensors.
func zipSameShape(op string, a, b *Tensor, f func(x, y float32) float32) *Tensor {
	mustSameShape(op, a, b)
	ad, bd := a.Contiguous().Data(), b.Contiguous().Data()
	out := Zeros(a.shape...)
	parallelFor(len(ad), 20, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out.data[i] = f(ad[i], bd[i])
		}
	})
	return out
}

func mustSameShape(op string, a, b *Tensor) {
	if !sameShape(a.shape, b.shape) {
		panic("tensor." + op + ": shapes differ: " + shapeStr(a.shape) + " and " + shapeStr(b.shape))
	}
}
