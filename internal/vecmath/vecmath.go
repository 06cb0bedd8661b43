package vecmath

import (
	"math"
	"strconv"
)

// lanes is the number of float64 partial sums that Sum and Dot keep: each
// path (AVX-512, AVX2, Go) adds element i into lane i mod 32 and reduces the
// lanes in one fixed tree (reduceLanes), so all paths return the same bits.
const lanes = 32

func mustSameLen(op string, n, m int) {
	if n != m {
		panic("vecmath." + op + ": slice lengths differ: " + strconv.Itoa(n) + " and " + strconv.Itoa(m))
	}
}

// Exp sets dst[i] = e^src[i]. The relative error is below 4e-7 for normal
// results; subnormal results are within one subnormal ulp, inputs above
// ln(MaxFloat32) give +Inf, below about −103.97 give 0, and NaN stays NaN.
func Exp(dst, src []float32) {
	mustSameLen("Exp", len(dst), len(src))
	if len(src) > 0 {
		expImpl(dst, src, 0)
	}
}

// Sigmoid sets dst[i] = σ(src[i]) = 1/(1 + e^−src[i]), with Exp's accuracy: −Inf gives 0,
// +Inf gives 1, NaN stays NaN. (SiLU and SwiGLU's gate, x·σ(x), are built on it.)
func Sigmoid(dst, src []float32) {
	mustSameLen("Sigmoid", len(dst), len(src))
	if len(src) > 0 {
		sigmoidImpl(dst, src)
	}
}

// sigmoidViaExp is Sigmoid as negation, Exp's kernel for the path, and a division in Go.
func sigmoidViaExp(dst, src []float32) { sigmoidWith(dst, src, expImpl) }

// sigmoidGeneric is Sigmoid on the pure-Go exponential, the other paths' reference.
func sigmoidGeneric(dst, src []float32) { sigmoidWith(dst, src, expGeneric) }

// sigmoidWith sets dst[i] = 1/(1 + e^−src[i]) with the given exponential.
func sigmoidWith(dst, src []float32, exp func(dst, src []float32, shift float32)) {
	if len(src) == 0 {
		return
	}
	for i, v := range src {
		dst[i] = -v
	}
	exp(dst, dst, 0)
	for i, e := range dst {
		dst[i] = 1 / (1 + e)
	}
}

// GELU sets dst[i] to the exact Gaussian error linear unit x·Φ(x) of
// x = src[i] (PyTorch's default GELU). −Inf gives 0 and +Inf gives +Inf.
func GELU(dst, src []float32) {
	mustSameLen("GELU", len(dst), len(src))
	if len(src) > 0 {
		geluImpl(dst, src)
	}
}

// GELUWithDerivative sets y[i] = x·Φ(x) and dydx[i] = Φ(x) + x·φ(x) for
// x = src[i], sharing one exponential between them, for a forward pass whose
// backward pass needs the derivative. y or dydx may alias src, but not each
// other. The derivative is 0 at −Inf and 1 at +Inf.
func GELUWithDerivative(y, dydx, src []float32) {
	mustSameLen("GELUWithDerivative", len(y), len(src))
	mustSameLen("GELUWithDerivative", len(dydx), len(src))
	if len(src) > 0 {
		geluDerivImpl(y, dydx, src)
	}
}

// GELUTanh sets dst[i] to the tanh approximation of GELU (GPT-2's
// "gelu_new"), x·σ(2u) = ½x(1 + tanh u) with u = √(2/π)(x + 0.044715x³).
func GELUTanh(dst, src []float32) {
	mustSameLen("GELUTanh", len(dst), len(src))
	if len(src) > 0 {
		geluTanhImpl(dst, src)
	}
}

// GELUTanhWithDerivative is GELUWithDerivative for the tanh approximation:
// dydx = σ(2u) + x·σ(2u)(1 − σ(2u))·2u'.
func GELUTanhWithDerivative(y, dydx, src []float32) {
	mustSameLen("GELUTanhWithDerivative", len(y), len(src))
	mustSameLen("GELUTanhWithDerivative", len(dydx), len(src))
	if len(src) > 0 {
		geluTanhDerivImpl(y, dydx, src)
	}
}

// Add sets dst[i] = a[i] + b[i].
func Add(dst, a, b []float32) {
	mustSameLen("Add", len(dst), len(a))
	mustSameLen("Add", len(b), len(a))
	if len(a) > 0 {
		addImpl(dst, a, b)
	}
}

// Mul sets dst[i] = a[i] · b[i].
func Mul(dst, a, b []float32) {
	mustSameLen("Mul", len(dst), len(a))
	mustSameLen("Mul", len(b), len(a))
	if len(a) > 0 {
		mulImpl(dst, a, b)
	}
}

// Scale sets dst[i] = src[i] · s.
func Scale(dst, src []float32, s float32) {
	mustSameLen("Scale", len(dst), len(src))
	if len(src) > 0 {
		scaleImpl(dst, src, s)
	}
}

// AddScaled adds s·src[i] to dst[i] (BLAS axpy). The product is rounded to
// float32 before the sum, not fused, so that every path gives the same bits.
func AddScaled(dst []float32, s float32, src []float32) {
	mustSameLen("AddScaled", len(dst), len(src))
	if len(src) > 0 {
		addScaledImpl(dst, s, src)
	}
}

// SubScale sets dst[i] = (src[i] − shift)·scale, the difference rounded to
// float32 before the product (LayerNorm's centring and normalising; with
// scale 1 it is a plain subtraction).
func SubScale(dst, src []float32, shift, scale float32) {
	mustSameLen("SubScale", len(dst), len(src))
	if len(src) > 0 {
		subScaleImpl(dst, src, shift, scale)
	}
}

// ScaleMulAdd sets dst[i] = (src[i]·s)·w[i] + b[i], rounding after each
// operation (no fused multiply-add), as Scale, Mul and Add in turn would:
// LayerNorm's affine output from the centred row. b may be nil, which leaves
// out the addition.
func ScaleMulAdd(dst, src, w, b []float32, s float32) {
	mustSameLen("ScaleMulAdd", len(dst), len(src))
	mustSameLen("ScaleMulAdd", len(w), len(src))
	if b != nil {
		mustSameLen("ScaleMulAdd", len(b), len(src))
	}
	if len(src) > 0 {
		scaleMulAddImpl(dst, src, w, b, s)
	}
}

// LayerNormGrad sets dst[i] = rs·((g[i] − meanG) − n[i]·meanGN), LayerNorm's
// input gradient from g = dy·w and the normalised input n, rounding after each
// operation (no fused multiply-add), as the Go expression
// rs * (g[i] - meanG - float32(n[i]*meanGN)) does.
func LayerNormGrad(dst, g, n []float32, rs, meanG, meanGN float32) {
	mustSameLen("LayerNormGrad", len(dst), len(g))
	mustSameLen("LayerNormGrad", len(n), len(g))
	if len(g) > 0 {
		layerNormGradImpl(dst, g, n, rs, meanG, meanGN)
	}
}

// LayerNormParamGrad adds dy[i]·n[i] to dw[i] (the product rounded before
// the sum) and dy[i] to db[i]: one row's contribution to LayerNorm's weight
// and bias gradients. dw and db must not overlap each other.
func LayerNormParamGrad(dw, db, dy, n []float32) {
	mustSameLen("LayerNormParamGrad", len(dw), len(dy))
	mustSameLen("LayerNormParamGrad", len(db), len(dy))
	mustSameLen("LayerNormParamGrad", len(n), len(dy))
	if len(dy) > 0 {
		layerNormParamGradImpl(dw, db, dy, n)
	}
}

// Sum returns the sum of src, accumulated in float64: element i goes into
// partial sum i mod 32, and the 32 partial sums are added in a fixed tree.
// Each float32 converts to float64 exactly, so the error is at most about
// (n/32 + 5)·2^−53·Σ|src[i]|, far below one float32 ulp of the result unless
// it cancels to nearly zero. The result depends only on the input, not on the
// CPU or the code path.
func Sum(src []float32) float64 {
	var acc [lanes]float64
	n := len(src) &^ (lanes - 1)
	if n > 0 {
		sumImpl(&acc, src[:n])
	}
	for j, x := range src[n:] {
		acc[j] += float64(x)
	}
	return reduceLanes(&acc)
}

// Dot returns Σ a[i]·b[i] with Sum's float64 accumulation and determinism:
// each float32 product is exact in float64.
func Dot(a, b []float32) float64 {
	mustSameLen("Dot", len(a), len(b))
	var acc [lanes]float64
	n := len(a) &^ (lanes - 1)
	if n > 0 {
		dotImpl(&acc, a[:n], b[:n])
	}
	b = b[n:]
	for j, x := range a[n:] {
		acc[j] += float64(x) * float64(b[j])
	}
	return reduceLanes(&acc)
}

// reduceLanes adds the partial sums pairwise in the order the vector
// registers would: the four 8-lane groups, then halves of the 8 lanes.
func reduceLanes(acc *[lanes]float64) float64 {
	// Written out rather than as loops over a temporary array, which the
	// compiler keeps in memory: this runs once per Sum or Dot, and on a
	// 128-wide LayerNorm row it cost as much as the kernel itself.
	s0 := (acc[0] + acc[8]) + (acc[16] + acc[24])
	s1 := (acc[1] + acc[9]) + (acc[17] + acc[25])
	s2 := (acc[2] + acc[10]) + (acc[18] + acc[26])
	s3 := (acc[3] + acc[11]) + (acc[19] + acc[27])
	s4 := (acc[4] + acc[12]) + (acc[20] + acc[28])
	s5 := (acc[5] + acc[13]) + (acc[21] + acc[29])
	s6 := (acc[6] + acc[14]) + (acc[22] + acc[30])
	s7 := (acc[7] + acc[15]) + (acc[23] + acc[31])
	s0, s1, s2, s3 = s0+s4, s1+s5, s2+s6, s3+s7
	s0, s1 = s0+s2, s1+s3
	return s0 + s1
}

// Max returns the largest element of src, NaN if any element is NaN, and −Inf
// if src is empty. The sign of a zero result is unspecified.
func Max(src []float32) float32 {
	if len(src) == 0 {
		return float32(math.Inf(-1))
	}
	m, nan := maxImpl(src)
	if nan {
		return float32(math.NaN())
	}
	return m
}

// SoftmaxScaledRow sets row to the softmax of row·scale, in place: Scale and then SoftmaxRow,
// bit for bit, in one call where the CPU allows (attention's rows are short, and five calls a
// row cost more than their arithmetic).
func SoftmaxScaledRow(row []float32, scale float32) {
	if len(row) == 0 {
		return
	}
	if !softmaxScaledImpl(row, scale) {
		SoftmaxRow(row, row)
	}
}

// SoftmaxRow sets dst to the softmax of src, e^(x−max)/Σe^(x−max), with the
// denominator summed as Sum does. −Inf entries give 0 (masked attention
// scores). A row with a NaN or +Inf, or with every entry −Inf, gives NaN
// throughout, as PyTorch does. dst may alias src.
func SoftmaxRow(dst, src []float32) {
	mustSameLen("SoftmaxRow", len(dst), len(src))
	if len(src) == 0 {
		return
	}
	m, nan := maxImpl(src)
	if nan {
		m = float32(math.NaN())
	}
	expImpl(dst, src, m)
	s := Sum(dst)
	scaleImpl(dst, dst, float32(1/s))
}
