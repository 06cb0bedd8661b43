//go:build !amd64 || purego

package vecmath

// Without assembly every kernel is the pure-Go one.

func expImpl(dst, src []float32, shift float32) { expGeneric(dst, src, shift) }
func geluImpl(dst, src []float32)               { geluGeneric(dst, src) }
func sigmoidImpl(dst, src []float32)            { sigmoidViaExp(dst, src) }
func geluDerivImpl(y, dydx, src []float32)      { geluDerivGeneric(y, dydx, src) }
func geluTanhImpl(dst, src []float32)           { geluTanhGeneric(dst, src) }
func geluTanhDerivImpl(y, dydx, src []float32)  { geluTanhDerivGeneric(y, dydx, src) }
func addImpl(dst, a, b []float32)               { addGeneric(dst, a, b) }
func mulImpl(dst, a, b []float32)               { mulGeneric(dst, a, b) }
func scaleImpl(dst, src []float32, s float32)   { scaleGeneric(dst, src, s) }

func softmaxScaledImpl(row []float32, scale float32) bool {
	scaleGeneric(row, row, scale)
	return false
}
func addScaledImpl(dst []float32, s float32, src []float32) { addScaledGeneric(dst, s, src) }
func subScaleImpl(dst, src []float32, shift, scale float32) { subScaleGeneric(dst, src, shift, scale) }
func scaleMulAddImpl(dst, src, w, b []float32, s float32)   { scaleMulAddGeneric(dst, src, w, b, s) }
func layerNormParamGradImpl(dw, db, dy, n []float32)        { layerNormParamGradGeneric(dw, db, dy, n) }
func sumImpl(acc *[lanes]float64, src []float32)            { sumGeneric(acc, src) }
func dotImpl(acc *[lanes]float64, a, b []float32)           { dotGeneric(acc, a, b) }
func maxImpl(src []float32) (float32, bool)                 { return maxGeneric(src) }

func layerNormGradImpl(dst, g, n []float32, rs, meanG, meanGN float32) {
	layerNormGradGeneric(dst, g, n, rs, meanG, meanGN)
}

// Implementation names the kernels in use, for benchmarks and logs.
func Implementation() string { return "go" }
