//go:build amd64 && !purego

package vecmath

import "github.com/goformer/goformer/internal/cpufeat"

// Instruction-set levels, in increasing order.
const (
	levelGo     = iota
	levelAVX2   // AVX2 + FMA3
	levelAVX512 // AVX-512F as well
)

// level is the instruction set the kernels use, chosen once from the CPU;
// tests lower it to check every path on one machine.
var level = detectLevel()

func detectLevel() int {
	switch {
	case cpufeat.AVX512F:
		return levelAVX512
	case cpufeat.AVX2FMA:
		return levelAVX2
	}
	return levelGo
}

// Implementation names the kernels in use, for benchmarks and logs.
func Implementation() string {
	switch level {
	case levelAVX512:
		return "avx512"
	case levelAVX2:
		return "avx2"
	}
	return "go"
}

// The AVX-512 kernels (*_amd64.s) take n ≥ 1 elements and finish the last
// partial vector with masked loads and stores. The wrappers below rely on the
// exported functions having checked that the slices are equally long.

//go:noescape
func expAVX512(dst, src *float32, n int, shift float32)

//go:noescape
func geluAVX512(dst, src *float32, n int)

//go:noescape
func sigmoidAVX512(dst, src *float32, n int)

//go:noescape
func softmaxScaledAVX512(row *float32, n int, scale float32) (ok bool)

//go:noescape
func geluDerivAVX512(y, dydx, src *float32, n int)

//go:noescape
func geluTanhAVX512(dst, src *float32, n int)

//go:noescape
func geluTanhDerivAVX512(y, dydx, src *float32, n int)

//go:noescape
func addAVX512(dst, a, b *float32, n int)

//go:noescape
func mulAVX512(dst, a, b *float32, n int)

//go:noescape
func scaleAVX512(dst, src *float32, n int, s float32)

//go:noescape
func addScaledAVX512(dst, src *float32, n int, s float32)

//go:noescape
func subScaleAVX512(dst, src *float32, n int, shift, scale float32)

//go:noescape
func scaleMulAVX512(dst, src, w *float32, n int, s float32)

//go:noescape
func scaleMulAddAVX512(dst, src, w, b *float32, n int, s float32)

//go:noescape
func layerNormGradAVX512(dst, gw, nrm *float32, n int, rs, meanG, meanGN float32)

//go:noescape
func layerNormParamGradAVX512(dw, db, dy, nrm *float32, n int)

// sumAVX512 and dotAVX512 take n as a multiple of 32.
//
//go:noescape
func sumAVX512(acc *[lanes]float64, src *float32, n int)

//go:noescape
func dotAVX512(acc *[lanes]float64, a, b *float32, n int)

//go:noescape
func maxAVX512(lanes *[16]float32, src *float32, n int) (nan bool) // the largest lane left in lanes[0]

// The AVX2+FMA kernels (*_avx2_amd64.s) have the same contracts, with
// VMASKMOVPS tails.

//go:noescape
func expAVX2(dst, src *float32, n int, shift float32)

//go:noescape
func geluAVX2(dst, src *float32, n int)

//go:noescape
func geluDerivAVX2(y, dydx, src *float32, n int)

//go:noescape
func geluTanhAVX2(dst, src *float32, n int)

//go:noescape
func geluTanhDerivAVX2(y, dydx, src *float32, n int)

//go:noescape
func addAVX2(dst, a, b *float32, n int)

//go:noescape
func mulAVX2(dst, a, b *float32, n int)

//go:noescape
func scaleAVX2(dst, src *float32, n int, s float32)

//go:noescape
func addScaledAVX2(dst, src *float32, n int, s float32)

//go:noescape
func subScaleAVX2(dst, src *float32, n int, shift, scale float32)

//go:noescape
func scaleMulAVX2(dst, src, w *float32, n int, s float32)

//go:noescape
func scaleMulAddAVX2(dst, src, w, b *float32, n int, s float32)

//go:noescape
func layerNormGradAVX2(dst, gw, nrm *float32, n int, rs, meanG, meanGN float32)

//go:noescape
func layerNormParamGradAVX2(dw, db, dy, nrm *float32, n int)

//go:noescape
func sumAVX2(acc *[lanes]float64, src *float32, n int)

//go:noescape
func dotAVX2(acc *[lanes]float64, a, b *float32, n int)

//go:noescape
func maxAVX2(lanes *[8]float32, src *float32, n int) (nan bool) // the largest lane left in lanes[0]

func expImpl(dst, src []float32, shift float32) {
	switch level {
	case levelAVX512:
		expAVX512(&dst[0], &src[0], len(src), shift)
	case levelAVX2:
		expAVX2(&dst[0], &src[0], len(src), shift)
	default:
		expGeneric(dst, src, shift)
	}
}

// softmaxScaledImpl scales row in place and, where it can, finishes SoftmaxRow in the same
// call; false leaves the rest to SoftmaxRow.
func softmaxScaledImpl(row []float32, scale float32) bool {
	if level == levelAVX512 {
		return softmaxScaledAVX512(&row[0], len(row), scale)
	}
	scaleImpl(row, row, scale)
	return false
}

func sigmoidImpl(dst, src []float32) {
	if level == levelAVX512 {
		sigmoidAVX512(&dst[0], &src[0], len(src))
		return
	}
	sigmoidViaExp(dst, src)
}

func geluImpl(dst, src []float32) {
	switch level {
	case levelAVX512:
		geluAVX512(&dst[0], &src[0], len(src))
	case levelAVX2:
		geluAVX2(&dst[0], &src[0], len(src))
	default:
		geluGeneric(dst, src)
	}
}

func geluDerivImpl(y, dydx, src []float32) {
	switch level {
	case levelAVX512:
		geluDerivAVX512(&y[0], &dydx[0], &src[0], len(src))
	case levelAVX2:
		geluDerivAVX2(&y[0], &dydx[0], &src[0], len(src))
	default:
		geluDerivGeneric(y, dydx, src)
	}
}

func geluTanhImpl(dst, src []float32) {
	switch level {
	case levelAVX512:
		geluTanhAVX512(&dst[0], &src[0], len(src))
	case levelAVX2:
		geluTanhAVX2(&dst[0], &src[0], len(src))
	default:
		geluTanhGeneric(dst, src)
	}
}

func geluTanhDerivImpl(y, dydx, src []float32) {
	switch level {
	case levelAVX512:
		geluTanhDerivAVX512(&y[0], &dydx[0], &src[0], len(src))
	case levelAVX2:
		geluTanhDerivAVX2(&y[0], &dydx[0], &src[0], len(src))
	default:
		geluTanhDerivGeneric(y, dydx, src)
	}
}

func addImpl(dst, a, b []float32) {
	switch level {
	case levelAVX512:
		addAVX512(&dst[0], &a[0], &b[0], len(a))
	case levelAVX2:
		addAVX2(&dst[0], &a[0], &b[0], len(a))
	default:
		addGeneric(dst, a, b)
	}
}

func mulImpl(dst, a, b []float32) {
	switch level {
	case levelAVX512:
		mulAVX512(&dst[0], &a[0], &b[0], len(a))
	case levelAVX2:
		mulAVX2(&dst[0], &a[0], &b[0], len(a))
	default:
		mulGeneric(dst, a, b)
	}
}

func scaleImpl(dst, src []float32, s float32) {
	switch level {
	case levelAVX512:
		scaleAVX512(&dst[0], &src[0], len(src), s)
	case levelAVX2:
		scaleAVX2(&dst[0], &src[0], len(src), s)
	default:
		scaleGeneric(dst, src, s)
	}
}

func addScaledImpl(dst []float32, s float32, src []float32) {
	switch level {
	case levelAVX512:
		addScaledAVX512(&dst[0], &src[0], len(src), s)
	case levelAVX2:
		addScaledAVX2(&dst[0], &src[0], len(src), s)
	default:
		addScaledGeneric(dst, s, src)
	}
}

func subScaleImpl(dst, src []float32, shift, scale float32) {
	switch level {
	case levelAVX512:
		subScaleAVX512(&dst[0], &src[0], len(src), shift, scale)
	case levelAVX2:
		subScaleAVX2(&dst[0], &src[0], len(src), shift, scale)
	default:
		subScaleGeneric(dst, src, shift, scale)
	}
}

func scaleMulAddImpl(dst, src, w, b []float32, s float32) {
	switch {
	case level == levelAVX512 && b == nil:
		scaleMulAVX512(&dst[0], &src[0], &w[0], len(src), s)
	case level == levelAVX512:
		scaleMulAddAVX512(&dst[0], &src[0], &w[0], &b[0], len(src), s)
	case level == levelAVX2 && b == nil:
		scaleMulAVX2(&dst[0], &src[0], &w[0], len(src), s)
	case level == levelAVX2:
		scaleMulAddAVX2(&dst[0], &src[0], &w[0], &b[0], len(src), s)
	default:
		scaleMulAddGeneric(dst, src, w, b, s)
	}
}

func layerNormGradImpl(dst, g, n []float32, rs, meanG, meanGN float32) {
	switch level {
	case levelAVX512:
		layerNormGradAVX512(&dst[0], &g[0], &n[0], len(g), rs, meanG, meanGN)
	case levelAVX2:
		layerNormGradAVX2(&dst[0], &g[0], &n[0], len(g), rs, meanG, meanGN)
	default:
		layerNormGradGeneric(dst, g, n, rs, meanG, meanGN)
	}
}

func layerNormParamGradImpl(dw, db, dy, n []float32) {
	switch level {
	case levelAVX512:
		layerNormParamGradAVX512(&dw[0], &db[0], &dy[0], &n[0], len(dy))
	case levelAVX2:
		layerNormParamGradAVX2(&dw[0], &db[0], &dy[0], &n[0], len(dy))
	default:
		layerNormParamGradGeneric(dw, db, dy, n)
	}
}

func sumImpl(acc *[lanes]float64, src []float32) {
	switch level {
	case levelAVX512:
		sumAVX512(acc, &src[0], len(src))
	case levelAVX2:
		sumAVX2(acc, &src[0], len(src))
	default:
		sumGeneric(acc, src)
	}
}

func dotImpl(acc *[lanes]float64, a, b []float32) {
	switch level {
	case levelAVX512:
		dotAVX512(acc, &a[0], &b[0], len(a))
	case levelAVX2:
		dotAVX2(acc, &a[0], &b[0], len(a))
	default:
		dotGeneric(acc, a, b)
	}
}

func maxImpl(src []float32) (float32, bool) {
	switch level {
	case levelAVX512:
		var l [16]float32
		if maxAVX512(&l, &src[0], len(src)) {
			return 0, true
		}
		return l[0], false // the kernel leaves the largest lane in lane 0
	case levelAVX2:
		var l [8]float32
		if maxAVX2(&l, &src[0], len(src)) {
			return 0, true
		}
		return l[0], false // the kernel leaves the largest lane in lane 0
	default:
		return maxGeneric(src)
	}
}
