package vecmath

import "math"

// Pure-Go kernels: the reference that the assembly is tested against, and the
// implementation on other architectures, on CPUs without AVX2, and under
// -tags purego. They use the algorithms of tensor/fastmath.go (a Taylor
// exp after reduction by ln 2, Abramowitz–Stegun 7.1.26 for erfc) in the same
// order of operations as the assembly, so the two agree to a few ulp; the
// assembly differs only by fusing multiply-adds and by rounding ties of
// x·log2(e) to even.

const (
	log2e  = 1.4426950408889634
	ln2Hi  = 0.693145751953125 // ln 2 split in two so that k·ln2Hi is exact for |k| < 2^10
	ln2Lo  = 1.428606765330187e-06
	expMax = 88.72283905206835 // ln(MaxFloat32)
	expMin = -103.97207708     // below this, e^x underflows to 0 even as a subnormal

	invSqrt2    = 1 / math.Sqrt2
	invSqrt2Pi  = 0.3989422804014327 // 1/√(2π)
	sqrt2OverPi = 0.7978845608028654 // √(2/π)
	tanhCubic   = 0.044715

	// geluClamp bounds x where GELU's terms stop changing in float32: below
	// −20, Φ(x) and x·φ(x) are far under the smallest subnormal; above +20,
	// Φ(x) = 1 and x·φ(x) = 0. Clamping makes ±Inf give the limits
	// (0 and +Inf, derivatives 0 and 1) instead of ∞·0 = NaN.
	geluClamp = 20
)

// expf returns e^x in float32 with a relative error below 2e-7 for normal
// results (tensor/fastmath.go's expf).
func expf(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > expMax:
		return float32(math.Inf(1))
	case x < expMin:
		return 0
	}
	// e^x = 2^k · e^r with k = round(x·log2 e) and |r| ≤ ln2/2.
	kf := x * log2e
	var ki int32
	if kf >= 0 {
		ki = int32(kf + 0.5)
	} else {
		ki = int32(kf - 0.5)
	}
	k := float32(ki)
	r := x - k*ln2Hi - k*ln2Lo
	// Taylor series to r^7: the truncation error r^8/8! < 3e-9 for |r| ≤ 0.35.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	if ki < -126 {
		// subnormal result: scale in two steps so the exponent field stays valid
		return p * math.Float32frombits(uint32(ki+126+127)<<23) * math.Float32frombits(1<<23)
	}
	if ki > 127 {
		return p * 2 * math.Float32frombits(uint32(ki-1+127)<<23)
	}
	return p * math.Float32frombits(uint32(ki+127)<<23)
}

// erfcScaled returns t·P(t) such that erfc(z) ≈ t·P(t)·e^(−z²) for z ≥ 0 (A&S
// 7.1.26, absolute error below 1.5e-7), so that Φ and φ share one exponential.
func erfcScaled(z float32) float32 {
	const (
		p  = 0.3275911
		a1 = 0.254829592
		a2 = -0.284496736
		a3 = 1.421413741
		a4 = -1.453152027
		a5 = 1.061405429
	)
	t := 1 / (1 + p*z)
	return t * (a1 + t*(a2+t*(a3+t*(a4+t*a5))))
}

// geluExact returns x·Φ(x) and Φ(x) + x·φ(x).
func geluExact(x float32) (y, dydx float32) {
	if x < -geluClamp { // false for NaN, which propagates
		x = -geluClamp
	}
	gauss := expf(-0.5 * x * x) // √(2π)·φ(x)
	z := x * invSqrt2
	if z < 0 {
		z = -z
	}
	e := 0.5 * erfcScaled(z) * gauss // ½erfc(|x|/√2) = Φ(−|x|)
	cdf := 1 - e
	if x < 0 {
		cdf = e
	}
	xc := min(x, geluClamp)
	return x * cdf, cdf + xc*(invSqrt2Pi*gauss)
}

// geluTanhForm returns x·σ(2u) and its derivative σ(2u) + x·σ(2u)(1−σ(2u))·2u'
// with u = √(2/π)(x + 0.044715x³). σ and 1−σ both come from e = e^−|2u| without
// cancellation: with q = 1/(1+e), one of them is q and the other e·q, so
// σ(1−σ) = e·q².
func geluTanhForm(x float32) (y, dydx float32) {
	const (
		twoC0    = 2 * sqrt2OverPi
		twoC0C1  = 2 * sqrt2OverPi * tanhCubic
		sixC0C1  = 6 * sqrt2OverPi * tanhCubic
		expFloor = -104 // e^−104 rounds to 0; keeps e^−∞ off the slow path
	)
	if x < -geluClamp {
		x = -geluClamp
	}
	v := x * (twoC0 + twoC0C1*(x*x)) // 2u
	a := -v
	if v < 0 {
		a = v
	}
	e := expf(max(a, expFloor))
	q := 1 / (1 + e)
	eq := e * q
	s := q
	if v < 0 {
		s = eq
	}
	xc := min(x, geluClamp)
	du2 := twoC0 + sixC0C1*(xc*xc) // 2u'
	return x * s, s + xc*(eq*q)*du2
}

func expGeneric(dst, src []float32, shift float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = expf(x - shift)
	}
}

func geluGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i], _ = geluExact(x)
	}
}

func geluDerivGeneric(y, dydx, src []float32) {
	y, dydx = y[:len(src)], dydx[:len(src)]
	for i, x := range src {
		y[i], dydx[i] = geluExact(x)
	}
}

func geluTanhGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i], _ = geluTanhForm(x)
	}
}

func geluTanhDerivGeneric(y, dydx, src []float32) {
	y, dydx = y[:len(src)], dydx[:len(src)]
	for i, x := range src {
		y[i], dydx[i] = geluTanhForm(x)
	}
}

func addGeneric(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i := range a {
		dst[i] = a[i] + b[i]
	}
}

func mulGeneric(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i := range a {
		dst[i] = a[i] * b[i]
	}
}

func scaleGeneric(dst, src []float32, s float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = x * s
	}
}

// addScaledGeneric rounds the product before the sum (the explicit
// conversion forbids the compiler from fusing them), as the assembly does,
// so that every path gives the same bits.
func addScaledGeneric(dst []float32, s float32, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] += float32(s * x)
	}
}

// The LayerNorm kernels below round every operation separately: the explicit
// float32 conversions forbid the compiler from fusing a product into the sum
// or difference that follows it (which it does on arm64, for one).

func subScaleGeneric(dst, src []float32, shift, scale float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(x-shift) * scale
	}
}

func scaleMulAddGeneric(dst, src, w, b []float32, s float32) {
	dst, w = dst[:len(src)], w[:len(src)]
	if b == nil {
		for i, x := range src {
			dst[i] = float32(x*s) * w[i]
		}
		return
	}
	b = b[:len(src)]
	for i, x := range src {
		dst[i] = float32(float32(x*s)*w[i]) + b[i]
	}
}

func layerNormGradGeneric(dst, g, n []float32, rs, meanG, meanGN float32) {
	dst, n = dst[:len(g)], n[:len(g)]
	for i, x := range g {
		dst[i] = rs * (float32(x-meanG) - float32(n[i]*meanGN))
	}
}

func layerNormParamGradGeneric(dw, db, dy, n []float32) {
	dw, db, n = dw[:len(dy)], db[:len(dy)], n[:len(dy)]
	for i, g := range dy {
		dw[i] += float32(g * n[i])
		db[i] += g
	}
}

// sumGeneric and dotGeneric add into the 32 lanes of acc in the order the
// assembly does (lane j gets elements j, j+32, j+64 ...). len(src) is a
// multiple of 32.
func sumGeneric(acc *[lanes]float64, src []float32) {
	for len(src) >= lanes {
		for j, x := range src[:lanes] {
			acc[j] += float64(x)
		}
		src = src[lanes:]
	}
}

func dotGeneric(acc *[lanes]float64, a, b []float32) {
	b = b[:len(a)]
	for len(a) >= lanes {
		for j, x := range a[:lanes] {
			// The float64 product of two float32s is exact, so this equals
			// the assembly's fused multiply-add.
			acc[j] += float64(x) * float64(b[j])
		}
		a, b = a[lanes:], b[lanes:]
	}
}

// maxGeneric returns the largest element (−Inf for none) and whether any
// element is NaN.
func maxGeneric(src []float32) (m float32, nan bool) {
	m = float32(math.Inf(-1))
	for _, x := range src {
		if x > m {
			m = x
		} else if x != x {
			return x, true
		}
	}
	return m, false
}
