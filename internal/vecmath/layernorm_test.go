package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The LayerNorm kernels round every operation separately, so each path must
// give the pure-Go kernel's bits exactly (NaN counting as equal to NaN, since
// which NaN payload survives an operation is not specified), on every length
// up to 70 (every mix of unrolled body, single vectors and tail) and a few
// long ones, in place and not, without writing outside the output.

var lnLengths = func() []int {
	var ns []int
	for n := range 71 {
		ns = append(ns, n)
	}
	return append(ns, 127, 128, 1000, 4099)
}()

// lnInput returns n values of magnitude about scale with specials scattered
// through bodies and tails.
func lnInput(r *rand.Rand, n int, scale float64, offset int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), inf32, -inf32, nan32, 1e-40, -1e-40,
		math.MaxFloat32, -math.MaxFloat32, 1e30, -1e30}
	s := randSlice(r, n, scale)
	for i := offset; i < n; i += 13 {
		s[i] = specials[(i/13)%len(specials)]
	}
	return s
}

// sameBits asserts that got and want are equal bit for bit, any NaN matching
// any NaN.
func sameBits(t *testing.T, name string, got, want []float32) bool {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if g != g && w != w {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			return assert.Fail(t, "bits differ", "%s[%d] = %v (%#08x) on %s, Go %v (%#08x)",
				name, i, g, math.Float32bits(g), Implementation(), w, math.Float32bits(w))
		}
	}
	return true
}

// lnScalars are the scalar arguments tried: ordinary values, 1 and 0 (the
// forward pass's centring uses scale 1), and values that overflow products.
var lnScalars = [][3]float32{{0.37, 1.9, -0.011}, {-2.5, 1, 0}, {0, 0.3, 7}, {1e30, 3e10, -1e-30}}

func TestLayerNormKernelsMatchGo(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range lnLengths {
			x, w, b := lnInput(r, n, 4, 0), lnInput(r, n, 2, 5), lnInput(r, n, 1, 9)
			for k, sc := range lnScalars {
				t.Run(fmt.Sprintf("n=%d/scalars=%d", n, k), func(t *testing.T) {
					testLayerNormKernels(t, n, x, w, b, sc)
				})
			}
		}
	})
}

func testLayerNormKernels(t *testing.T, n int, x, w, b []float32, sc [3]float32) {
	want := make([]float32, n)
	check := func(name string, fast func(dst []float32), generic func(dst []float32)) {
		t.Helper()
		generic(want)
		got, buf := guarded(n)
		fast(got)
		checkGuards(t, name, buf, n)
		sameBits(t, name, got, want)
	}
	check("SubScale", func(d []float32) { SubScale(d, x, sc[0], sc[1]) },
		func(d []float32) { subScaleGeneric(d, x, sc[0], sc[1]) })
	check("ScaleMulAdd", func(d []float32) { ScaleMulAdd(d, x, w, b, sc[0]) },
		func(d []float32) { scaleMulAddGeneric(d, x, w, b, sc[0]) })
	check("ScaleMulAdd nil bias", func(d []float32) { ScaleMulAdd(d, x, w, nil, sc[0]) },
		func(d []float32) { scaleMulAddGeneric(d, x, w, nil, sc[0]) })
	check("LayerNormGrad", func(d []float32) { LayerNormGrad(d, x, w, sc[0], sc[1], sc[2]) },
		func(d []float32) { layerNormGradGeneric(d, x, w, sc[0], sc[1], sc[2]) })

	// in place: dst the same slice as the first source
	inPlace := func(name string, f func(d []float32)) {
		t.Helper()
		got := append([]float32(nil), x...)
		f(got)
		sameBits(t, name+" in place", got, want)
	}
	subScaleGeneric(want, x, sc[0], sc[1])
	inPlace("SubScale", func(d []float32) { SubScale(d, d, sc[0], sc[1]) })
	scaleMulAddGeneric(want, x, w, b, sc[0])
	inPlace("ScaleMulAdd", func(d []float32) { ScaleMulAdd(d, d, w, b, sc[0]) })
	layerNormGradGeneric(want, x, w, sc[0], sc[1], sc[2])
	inPlace("LayerNormGrad", func(d []float32) { LayerNormGrad(d, d, w, sc[0], sc[1], sc[2]) })

	// LayerNormParamGrad accumulates into two outputs that start from w and b.
	wantW, wantB := append([]float32(nil), w...), append([]float32(nil), b...)
	layerNormParamGradGeneric(wantW, wantB, x, b)
	gotW, bufW := guarded(n)
	gotB, bufB := guarded(n)
	copy(gotW, w)
	copy(gotB, b)
	LayerNormParamGrad(gotW, gotB, x, b)
	checkGuards(t, "LayerNormParamGrad dw", bufW, n)
	checkGuards(t, "LayerNormParamGrad db", bufB, n)
	sameBits(t, "LayerNormParamGrad dw", gotW, wantW)
	sameBits(t, "LayerNormParamGrad db", gotB, wantB)
}

// The Go kernels against the plain compositions they replace: Scale, Mul and
// Add in turn; the scalar expressions of tensor.LayerNormBackward; Mul then
// Add. (Where Go may fuse a multiply-add, on arm64 for instance, the scalar
// expressions are written with the conversion that forbids it.)
func TestLayerNormKernelsMatchCompositions(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range lnLengths {
		x, w, b := lnInput(r, n, 4, 0), lnInput(r, n, 2, 5), lnInput(r, n, 1, 9)
		for _, sc := range lnScalars {
			got, want := make([]float32, n), make([]float32, n)

			SubScale(got, x, sc[0], sc[1])
			for i, v := range x {
				want[i] = (v - sc[0]) * sc[1]
			}
			sameBits(t, "SubScale", got, want)

			ScaleMulAdd(got, x, w, b, sc[0])
			Scale(want, x, sc[0])
			Mul(want, want, w)
			Add(want, want, b)
			sameBits(t, "ScaleMulAdd", got, want)
			ScaleMulAdd(got, x, w, nil, sc[0])
			Scale(want, x, sc[0])
			Mul(want, want, w)
			sameBits(t, "ScaleMulAdd nil bias", got, want)

			LayerNormGrad(got, x, w, sc[0], sc[1], sc[2])
			rs, meanG, meanGN := sc[0], sc[1], sc[2]
			for i := range want {
				want[i] = rs * (x[i] - meanG - float32(w[i]*meanGN))
			}
			sameBits(t, "LayerNormGrad", got, want)

			gotW, gotB := append([]float32(nil), w...), append([]float32(nil), b...)
			LayerNormParamGrad(gotW, gotB, x, b)
			prod := make([]float32, n)
			Mul(prod, x, b)
			wantW, wantB := append([]float32(nil), w...), append([]float32(nil), b...)
			Add(wantW, wantW, prod)
			Add(wantB, wantB, x)
			sameBits(t, "LayerNormParamGrad dw", gotW, wantW)
			sameBits(t, "LayerNormParamGrad db", gotB, wantB)
		}
	}
}

func TestLayerNormKernelsLengthChecks(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	assert.PanicsWithValue(t, "vecmath.SubScale: slice lengths differ: 3 and 4", func() { SubScale(a, b, 0, 1) })
	assert.Panics(t, func() { ScaleMulAdd(a, a, b, nil, 1) })
	assert.Panics(t, func() { ScaleMulAdd(a, a, a, b, 1) })
	assert.Panics(t, func() { LayerNormGrad(a, a, b, 1, 0, 0) })
	assert.Panics(t, func() { LayerNormParamGrad(a, a, a, b) })
	assert.Panics(t, func() { LayerNormParamGrad(a, b, a, a) })
	assert.NotPanics(t, func() { ScaleMulAdd(nil, nil, nil, nil, 1) })
}
