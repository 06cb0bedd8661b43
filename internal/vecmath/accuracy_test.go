package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Accuracy against float64 references from the math package, on every code
// path the CPU offers.

var (
	inf32 = float32(math.Inf(1))
	nan32 = float32(math.NaN())
)

// inputs returns special values, a dense grid over [lo, hi] and random
// values, in an order that puts specials in vector tails as well as bodies.
func inputs(lo, hi float64) []float32 {
	xs := []float32{0, float32(math.Copysign(0, -1)), inf32, -inf32, nan32,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		1e-40, -1e-40, 1e-30, -1e-30, 88.72, 88.7228, 88.723, 88.73, -87.33, -87.34, -103.9, -103.97, -103.98, -104, -150,
		20, -20, 19.99, -19.99, 14, -14, 13, -13, 1e20, -1e20, 1e38, -1e38, 0.5, -0.5, 1, -1}
	for x := lo; x <= hi; x += (hi - lo) / 20011 {
		xs = append(xs, float32(x))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		xs = append(xs, float32(lo+(hi-lo)*r.Float64()))
	}
	return xs
}

// errStats tracks the largest relative error (where |want| ≥ relFloor) and
// the largest absolute error.
type errStats struct{ rel, abs float64 }

func (s *errStats) add(got float32, want, relFloor float64) {
	d := math.Abs(float64(got) - want)
	if math.Abs(want) >= relFloor {
		s.rel = max(s.rel, d/math.Abs(want))
	}
	s.abs = max(s.abs, d)
}

// checkSpecial asserts the result for a value whose exact result is not
// finite-and-comparable (NaN or infinite); it reports whether it handled it.
func checkSpecial(t *testing.T, op string, x, got float32, want float64) bool {
	t.Helper()
	switch {
	case math.IsNaN(want):
		assert.True(t, got != got, "%s(%v) = %v, want NaN", op, x, got)
	case math.IsInf(want, 0) || math.Abs(want) > math.MaxFloat32*(1+1e-7):
		assert.True(t, math.IsInf(float64(got), int(math.Copysign(1, want))), "%s(%v) = %v, want %v", op, x, got, want)
	default:
		return false
	}
	return true
}

func TestExpAccuracy(t *testing.T) {
	xs := inputs(-110, 95)
	forEachPath(t, func(t *testing.T) {
		got := make([]float32, len(xs))
		Exp(got, xs)
		var s errStats
		for i, x := range xs {
			want := math.Exp(float64(x))
			if checkSpecial(t, "Exp", x, got[i], want) {
				continue
			}
			s.add(got[i], want, 0x1p-126)
			if want < 0x1p-126 {
				// subnormal: within one subnormal step
				assert.LessOrEqual(t, math.Abs(float64(got[i])-want), 0x1p-149, "Exp(%v)", x)
			} else {
				assert.InDelta(t, 1, float64(got[i])/want, 4e-7, "Exp(%v) = %v, want %v", x, got[i], want)
			}
		}
		t.Logf("Exp: max rel err %.3g (normal results), max abs err %.3g", s.rel, s.abs)
	})
}

// geluRef returns x·Φ(x) and Φ(x) + x·φ(x) in float64.
func geluRef(x float64) (y, dydx float64) {
	if math.IsInf(x, -1) {
		return 0, 0
	}
	if math.IsInf(x, 1) {
		return x, 1
	}
	cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
	pdf := math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi)
	return x * cdf, cdf + x*pdf
}

func geluTanhRef(x float64) (y, dydx float64) {
	if math.IsInf(x, -1) {
		return 0, 0
	}
	if math.IsInf(x, 1) {
		return x, 1
	}
	const c = 0.7978845608028654
	u := c * (x + 0.044715*x*x*x)
	th := math.Tanh(u)
	du := c * (1 + 3*0.044715*x*x)
	return 0.5 * x * (1 + th), 0.5*(1+th) + 0.5*x*(1-th*th)*du
}

// The GELU bounds are absolute, scaled by max(1, |x|): A&S 7.1.26 bounds the
// absolute error of erf (1.5e-7), so Φ(x) has an absolute error near 7.5e-8
// and its relative error grows where Φ is tiny. The tanh form's float32
// rounding is relative to σ and so does better.
func testGELUAccuracy(t *testing.T, name string, ref func(float64) (float64, float64),
	fwd func(dst, src []float32), both func(y, dydx, src []float32), tolY, tolD float64) {
	xs := inputs(-25, 25)
	forEachPath(t, func(t *testing.T) {
		y := make([]float32, len(xs))
		y2 := make([]float32, len(xs))
		d := make([]float32, len(xs))
		fwd(y, xs)
		both(y2, d, xs)
		var sy, sd errStats
		for i, x := range xs {
			wy, wd := ref(float64(x))
			if !checkSpecial(t, name, x, y[i], wy) {
				sy.add(y[i], wy, 1e-3)
				assert.InDelta(t, wy, float64(y[i]), tolY*max(1, math.Abs(float64(x))), "%s(%v)", name, x)
			}
			if !checkSpecial(t, name+"'", x, d[i], wd) {
				sd.add(d[i], wd, 1e-3)
				assert.InDelta(t, wd, float64(d[i]), tolD*max(1, math.Abs(float64(x))), "%s'(%v)", name, x)
			}
			// the two entry points compute y identically
			if y[i] == y[i] {
				assert.Equal(t, y[i], y2[i], "%s(%v) with and without derivative", name, x)
			}
		}
		t.Logf("%s: y max abs err %.3g (rel %.3g where |y| ≥ 1e-3); dy/dx max abs err %.3g (rel %.3g)",
			name, sy.abs, sy.rel, sd.abs, sd.rel)
	})
}

func TestGELUAccuracy(t *testing.T) {
	testGELUAccuracy(t, "GELU", geluRef, GELU, GELUWithDerivative, 2e-7, 3e-7)
}

func TestGELUTanhAccuracy(t *testing.T) {
	testGELUAccuracy(t, "GELUTanh", geluTanhRef, GELUTanh, GELUTanhWithDerivative, 2e-7, 3e-7)
}

func TestGELUSpecials(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		src := []float32{-inf32, inf32, nan32, -1e30, 1e30}
		y, d := make([]float32, 5), make([]float32, 5)
		for _, f := range []func(y, d, s []float32){GELUWithDerivative, GELUTanhWithDerivative} {
			f(y, d, src)
			assert.Equal(t, []float32{0, inf32}, []float32{float32(math.Abs(float64(y[0]))), y[1]})
			assert.Equal(t, []float32{0, 1}, []float32{float32(math.Abs(float64(d[0]))), d[1]})
			assert.True(t, y[2] != y[2] && d[2] != d[2], "NaN in, NaN out")
			assert.Equal(t, []float32{0, 1e30}, []float32{float32(math.Abs(float64(y[3]))), y[4]})
			assert.Equal(t, []float32{0, 1}, []float32{float32(math.Abs(float64(d[3]))), d[4]})
		}
	})
}

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range testLengths {
		a, b := randSlice(r, n, 100), randSlice(r, n, 100)
		forEachPath(t, func(t *testing.T) {
			got := make([]float32, n)
			Add(got, a, b)
			for i := range n {
				require.Equal(t, a[i]+b[i], got[i], "Add n=%d i=%d", n, i)
			}
			Mul(got, a, b)
			for i := range n {
				require.Equal(t, a[i]*b[i], got[i], "Mul n=%d i=%d", n, i)
			}
			Scale(got, a, 0.37)
			for i := range n {
				require.Equal(t, a[i]*0.37, got[i], "Scale n=%d i=%d", n, i)
			}
			copy(got, b)
			AddScaled(got, -1.7, a)
			for i := range n {
				require.Equal(t, float32(float64(b[i])+float64(float32(-1.7*a[i]))), got[i], "AddScaled n=%d i=%d", n, i)
			}
		})
	}
}

func TestReductions(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range append(testLengths, 100_000) {
		a, b := randSlice(r, n, 10), randSlice(r, n, 10)
		var sum, dot, abs, absDot float64
		m := float32(math.Inf(-1))
		for i := range n {
			sum += float64(a[i])
			dot += float64(a[i]) * float64(b[i])
			abs += math.Abs(float64(a[i]))
			absDot += math.Abs(float64(a[i]) * float64(b[i]))
			m = max(m, a[i])
		}
		var sums, dots []float64
		forEachPath(t, func(t *testing.T) {
			s, d := Sum(a), Dot(a, b)
			assert.InDelta(t, sum, s, 1e-15*abs+1e-300, "Sum n=%d", n)
			assert.InDelta(t, dot, d, 1e-15*absDot+1e-300, "Dot n=%d", n)
			assert.Equal(t, m, Max(a), "Max n=%d", n)
			sums, dots = append(sums, s), append(dots, d)
		})
		for i := range sums {
			assert.Equal(t, sums[0], sums[i], "Sum n=%d: every path gives the same bits", n)
			assert.Equal(t, dots[0], dots[i], "Dot n=%d: every path gives the same bits", n)
		}
	}
}

func TestMaxSpecials(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		assert.Equal(t, -inf32, Max(nil))
		for _, n := range []int{1, 15, 16, 17, 64, 100} {
			for _, at := range []int{0, n / 2, n - 1} {
				xs := make([]float32, n)
				for i := range xs {
					xs[i] = -inf32
				}
				xs[at] = 3
				assert.Equal(t, float32(3), Max(xs), "n=%d at=%d", n, at)
				xs[at] = nan32
				m := Max(xs)
				assert.True(t, m != m, "NaN at %d of %d: got %v", at, n, m)
				xs[at] = -inf32
				assert.Equal(t, -inf32, Max(xs))
			}
		}
	})
}

func TestSoftmaxRow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range append(testLengths, 50257) {
		src := randSlice(r, n, 30)
		if n > 2 {
			src[1] = -inf32 // a masked entry
		}
		want := make([]float64, n)
		m := math.Inf(-1)
		for _, x := range src {
			m = max(m, float64(x))
		}
		var sum float64
		for i, x := range src {
			want[i] = math.Exp(float64(x) - m)
			sum += want[i]
		}
		forEachPath(t, func(t *testing.T) {
			got := make([]float32, n)
			SoftmaxRow(got, src)
			for i := range n {
				// x−max rounds to float32 (as in PyTorch), an error of
				// |x−max|·2^−24 in the exponent
				tol := 4e-7 + math.Abs(float64(src[i])-m)*0x1p-24
				assert.InDelta(t, 1, float64(got[i])/(want[i]/sum+1e-300), tol, "n=%d i=%d", n, i)
			}
			if n > 2 {
				assert.Equal(t, float32(0), got[1])
			}
			// in place
			cp := make([]float32, n)
			copy(cp, src)
			SoftmaxRow(cp, cp)
			assert.Equal(t, got, cp)
		})
	}
	forEachPath(t, func(t *testing.T) {
		for _, row := range [][]float32{{-inf32, -inf32}, {1, nan32, 2}, {1, inf32}} {
			got := make([]float32, len(row))
			SoftmaxRow(got, row)
			for _, v := range got {
				assert.True(t, v != v, "softmax(%v) = %v, want NaN", row, got)
			}
		}
	})
}

func TestLengthMismatchPanics(t *testing.T) {
	assert.PanicsWithValue(t, "vecmath.Add: slice lengths differ: 3 and 2", func() {
		Add(make([]float32, 3), make([]float32, 2), make([]float32, 2))
	})
	assert.Panics(t, func() { Exp(make([]float32, 1), make([]float32, 2)) })
	assert.Panics(t, func() { Dot(make([]float32, 1), make([]float32, 2)) })
	assert.Panics(t, func() { GELUWithDerivative(make([]float32, 2), make([]float32, 1), make([]float32, 2)) })
}

var testLengths = []int{0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000}

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(scale * (2*r.Float64() - 1))
	}
	return s
}
