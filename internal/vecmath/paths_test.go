package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The assembly against the pure-Go kernels (called directly, so the fallback
// is exercised on machines with AVX-512 too), on lengths that leave every
// kind of tail, with guard values around the output to catch stray writes.

// ulpDiff is the distance between a and b in float32 steps, with both NaN
// counting as equal.
func ulpDiff(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	key := func(x float32) int64 {
		u := int64(math.Float32bits(x))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return d
}

// close reports whether a and b agree within maxUlp, or within absTol. The
// absolute bound covers results of cancellation (a derivative crossing zero,
// A&S's alternating polynomial, where fused and separate multiply-adds round
// differently) and tiny results of e^v for large |v|, whose relative error
// is |v| times that of v.
func close(a, b float32, maxUlp int64, absTol float64) bool {
	return ulpDiff(a, b) <= maxUlp || math.Abs(float64(a)-float64(b)) <= absTol
}

const guard = float32(-12345.5)

// guarded returns a slice of n elements starting off a 64-byte boundary,
// inside a buffer whose other elements hold guard.
func guarded(n int) (s, buf []float32) {
	buf = make([]float32, n+40)
	for i := range buf {
		buf[i] = guard
	}
	return buf[3 : 3+n], buf
}

func checkGuards(t *testing.T, name string, buf []float32, n int) {
	t.Helper()
	for i, v := range buf {
		if i < 3 || i >= 3+n {
			if !assert.Equal(t, guard, v, "%s n=%d: write outside the slice at %d", name, n, i-3) {
				return
			}
		}
	}
}

type unaryCase struct {
	name    string
	fast    func(dst, src []float32)
	generic func(dst, src []float32)
	maxUlp  int64
	absTol  float64
}

func TestPathsAgree(t *testing.T) {
	forEachPath(t, testPathsAgree)
}

func testPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	specials := inputs(-30, 30)[:40]
	unary := []unaryCase{
		{"Exp", Exp, func(d, s []float32) { expGeneric(d, s, 0) }, 2, 0},
		{"Sigmoid", Sigmoid, sigmoidGeneric, 2, 0},
		{"GELU", GELU, geluGeneric, 4, 3e-7},
		{"GELUTanh", GELUTanh, geluTanhGeneric, 4, 3e-7},
		{"GELU'", func(d, s []float32) { GELUWithDerivative(make([]float32, len(s)), d, s) },
			func(d, s []float32) { geluDerivGeneric(make([]float32, len(s)), d, s) }, 4, 3e-7},
		{"GELUTanh'", func(d, s []float32) { GELUTanhWithDerivative(make([]float32, len(s)), d, s) },
			func(d, s []float32) { geluTanhDerivGeneric(make([]float32, len(s)), d, s) }, 4, 3e-7},
		{"Scale", func(d, s []float32) { Scale(d, s, 1.3) }, func(d, s []float32) { scaleGeneric(d, s, 1.3) }, 0, 0},
	}
	for _, n := range testLengths {
		src := randSlice(r, n, 12)
		// specials scattered so that they land in vector bodies and tails
		for i := 0; i < n; i += 7 {
			src[i] = specials[(i/7)%len(specials)]
		}
		for _, c := range unary {
			t.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(t *testing.T) {
				want := make([]float32, n)
				c.generic(want, src)
				got, buf := guarded(n)
				c.fast(got, src)
				checkGuards(t, c.name, buf, n)
				for i := range n {
					if !assert.True(t, close(got[i], want[i], c.maxUlp, c.absTol*max(1, math.Abs(float64(src[i])))),
						"%s(%v): %v (%s), Go %v", c.name, src[i], got[i], Implementation(), want[i]) {
						break
					}
				}
				// dst aliasing src
				in := append([]float32(nil), src...)
				c.fast(in, in)
				assert.Equal(t, bitsOf(got), bitsOf(in), "%s in place", c.name)
			})
		}
		t.Run(fmt.Sprintf("binary/n=%d", n), func(t *testing.T) {
			a, b := randSlice(r, n, 5), randSlice(r, n, 5)
			want := make([]float32, n)
			for _, c := range []struct {
				name          string
				fast, generic func(d, a, b []float32)
			}{{"Add", Add, addGeneric}, {"Mul", Mul, mulGeneric}, {"AddScaled",
				func(d, a, b []float32) { copy(d, a); AddScaled(d, 0.7, b) },
				func(d, a, b []float32) { copy(d, a); addScaledGeneric(d, 0.7, b) }}} {
				c.generic(want, a, b)
				got, buf := guarded(n)
				c.fast(got, a, b)
				checkGuards(t, c.name, buf, n)
				assert.Equal(t, want, got, c.name)
			}
			y, ybuf := guarded(n)
			d, dbuf := guarded(n)
			GELUWithDerivative(y, d, a)
			checkGuards(t, "GELUWithDerivative y", ybuf, n)
			checkGuards(t, "GELUWithDerivative dydx", dbuf, n)
			GELUTanhWithDerivative(y, d, a)
			checkGuards(t, "GELUTanhWithDerivative y", ybuf, n)
			checkGuards(t, "GELUTanhWithDerivative dydx", dbuf, n)
			sm, smbuf := guarded(n)
			SoftmaxRow(sm, a)
			checkGuards(t, "SoftmaxRow", smbuf, n)
		})
	}
}

func bitsOf(s []float32) []uint32 {
	b := make([]uint32, len(s))
	for i, x := range s {
		b[i] = math.Float32bits(x)
	}
	return b
}

// TestGenericExpNearFloat64 checks the Go exp against math.Exp rounded to
// float32, in ulps, over the range of normal results.
func TestGenericExpNearFloat64(t *testing.T) {
	for x := float32(-87); x < 88; x += 0.001 {
		got := expf(x)
		want := float32(math.Exp(float64(x)))
		if !assert.LessOrEqual(t, ulpDiff(got, want), int64(2), "expf(%v)", x) {
			return
		}
	}
}

// On every path Sigmoid is negation, that path's Exp and a division, bit for bit (the AVX-512
// kernel does all three in registers), and it keeps its limits: 0 at −Inf, 1 at +Inf, NaN.
func TestSigmoidIsExpOfTheNegation(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range testLengths {
			src := randSlice(r, n, 40)
			specials := []float32{float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN()), 0, -200, 200, 88.7, -88.7}
			for i := 0; i < n; i += 5 {
				src[i] = specials[(i/5)%len(specials)]
			}
			want, got := make([]float32, n), make([]float32, n)
			sigmoidViaExp(want, src)
			Sigmoid(got, src)
			assert.Equal(t, bitsOf(want), bitsOf(got), "n=%d (%s)", n, Implementation())
		}
		got := make([]float32, 3)
		Sigmoid(got, []float32{float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN())})
		assert.Equal(t, float32(0), got[0])
		assert.Equal(t, float32(1), got[1])
		assert.True(t, got[2] != got[2])
	})
}
