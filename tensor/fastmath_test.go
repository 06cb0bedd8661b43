package tensor

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The fast float32 functions against the float64 standard library, over their whole useful range.

func TestExpfMatchesMathExp(t *testing.T) {
	worst := 0.0
	for x := -103.0; x <= 88.7; x += 0.0137 {
		got := float64(expf(float32(x)))
		want := math.Exp(float64(float32(x)))
		if want < 1.1754944e-38 { // subnormal results: compare absolutely, within 2 subnormal steps
			assert.InDelta(t, want, got, 3e-45, "expf(%v)", x)
			continue
		}
		worst = max(worst, math.Abs(got-want)/want)
	}
	t.Logf("worst relative error of expf on normal results: %.3g", worst)
	assert.Less(t, worst, 4e-7, "within a few float32 ulp")
	assert.True(t, math.IsInf(float64(expf(100)), 1))
	assert.Equal(t, float32(0), expf(float32(math.Inf(-1))))
	assert.True(t, math.IsNaN(float64(expf(float32(math.NaN())))))
}

func TestNormalCDFMatchesErf(t *testing.T) {
	worst := 0.0
	for x := -12.0; x <= 12; x += 0.001 {
		cdf, gauss := normalCDF(float32(x))
		want := 0.5 * math.Erfc(-float64(float32(x))/math.Sqrt2)
		worst = max(worst, math.Abs(float64(cdf)-want))
		assert.InDelta(t, math.Exp(-0.5*x*x), gauss, 1e-6)
	}
	t.Logf("worst absolute error of Φ: %.3g", worst)
	// Abramowitz & Stegun 7.1.26 bounds the erf error by 1.5e-7 (0.75e-7 for Φ); evaluating it in
	// float32 adds a few roundings of ~6e-8 (the ulp of values near 1).
	assert.Less(t, worst, 3e-7)
}

func TestSigmoidf(t *testing.T) {
	for x := -90.0; x <= 90; x += 0.01 {
		want := 1 / (1 + math.Exp(-x))
		assert.InDelta(t, want, sigmoidf(float32(x)), 1e-7+1e-6*want)
	}
}

func TestGELUDerivativeMatchesBackward(t *testing.T) {
	x := Arange(-6, 6, 0.01)
	ones := Ones(x.Shape()...)
	y, d := GELUWithDerivative(x)
	assert.Equal(t, GELU(x).Values(), y.Values())
	assert.Equal(t, GELUBackward(x, ones).Values(), d.Values())
	y, d = GELUTanhWithDerivative(x)
	assert.Equal(t, GELUTanh(x).Values(), y.Values())
	assert.Equal(t, GELUTanhBackward(x, ones).Values(), d.Values())
}
