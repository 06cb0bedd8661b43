package tensor

import "math"

// Float32 versions of exp and the normal CDF. The standard library computes in float64 with
// full precision, which costs several times what a training step can afford for the millions of
// GELU and softmax evaluations it makes; these keep float32 accuracy (a few ulp) at a fraction
// of the cost. The tests check them against the float64 library functions.

const (
	log2e  = 1.4426950408889634
	ln2Hi  = 0.693145751953125 // ln 2 split in two so that k·ln2Hi is exact for |k| < 2^10
	ln2Lo  = 1.428606765330187e-06
	expMax = 88.72283905206835 // ln(MaxFloat32)
	expMin = -103.97207708     // below this, e^x underflows to 0 even as a subnormal
)

// expf returns e^x in float32 with a relative error below 2e-7 for normal results.
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

// erfcScaled returns t·P(t) such that erfc(z) ≈ t·P(t)·e^(−z²) for z ≥ 0, with t = 1/(1 + p·z)
// (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7). Splitting off e^(−z²) lets GELU's
// forward and backward passes share one exponential with the normal density.
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

// normalCDF returns Φ(x) and e^(−x²/2) (which is √(2π)·φ(x)).
func normalCDF(x float32) (cdf, gauss float32) {
	gauss = expf(-0.5 * x * x)
	z := x * (1 / math.Sqrt2)
	if z >= 0 {
		return 1 - 0.5*erfcScaled(z)*gauss, gauss
	}
	return 0.5 * erfcScaled(-z) * gauss, gauss
}

// sigmoidf returns 1/(1 + e^−x) without overflow.
func sigmoidf(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + expf(-x))
	}
	e := expf(x)
	return e / (1 + e)
}
