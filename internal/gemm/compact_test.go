package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nearestBF16 is an independent statement of bfloat16 rounding for finite f: of the two
// bfloat16 values around f (f's top 16 bits, and the next one away from zero), the nearer in
// float64, the one with an even last bit on a tie.
func nearestBF16(f float32) uint16 {
	b := math.Float32bits(f)
	lo := uint16(b >> 16)
	hi := lo + 1 // one bfloat16 ulp further from zero (may carry into the exponent, or reach Inf)
	dl := math.Abs(float64(f) - float64(fromBF16(lo)))
	dh := math.Abs(float64(fromBF16(hi)) - float64(f))
	if math.IsInf(float64(fromBF16(hi)), 0) {
		// past the largest finite bfloat16, rounding to nearest overflows at its midpoint with
		// the next power of two, where an unbounded exponent would put the next value
		dh = math.Abs(math.Ldexp(1, 128)*float64(math.Copysign(1, float64(f))) - float64(f))
	}
	switch {
	case dl < dh:
		return lo
	case dh < dl:
		return hi
	case lo&1 == 0:
		return lo
	}
	return hi
}

func TestBF16Rounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	worst := 0.0
	for i := range 200000 {
		var f float32
		switch i % 4 {
		case 0: // anything finite, subnormals included
			f = math.Float32frombits(rng.Uint32()&^(0xff<<23) | uint32(rng.IntN(255))<<23)
		case 1: // ties: exactly half an ulp dropped
			f = math.Float32frombits(rng.Uint32()&0xffff0000 | 0x8000)
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				continue
			}
		default: // weights of a model
			f = float32(rng.NormFloat64() * 0.02)
		}
		got := toBF16(f)
		require.Equal(t, nearestBF16(f), got, "toBF16(%v = %#08x)", f, math.Float32bits(f))
		if a := math.Abs(float64(f)); a >= 0x1p-126 && a <= math.MaxFloat32/2 { // normal range
			rel := math.Abs(float64(fromBF16(got))-float64(f)) / a
			require.LessOrEqual(t, rel, 0x1p-8, "relative error of %v", f)
			worst = max(worst, rel)
		}
	}
	t.Logf("largest relative error over normal values: %.4g (2⁻⁸ = %.4g)", worst, 0x1p-8)
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		in   float32
		want float32
	}{{0, 0}, {1, 1}, {-2.5, -2.5}, {inf, inf}, {-inf, -inf}, {math.MaxFloat32, inf}, {-math.MaxFloat32, -inf}, {1 + 0x1p-8, 1}, {1 + 3*0x1p-8, 1 + 0x1p-6}} {
		assert.Equal(t, math.Float32bits(c.want), math.Float32bits(fromBF16(toBF16(c.in))), "%v", c.in)
	}
	assert.Equal(t, uint16(0x8000), toBF16(float32(math.Copysign(0, -1))), "-0 keeps its sign")
	for _, nan := range []uint32{0x7fc00000, 0x7f800001, 0xff800001, 0x7f80ffff} { // quiet and signalling, including one whose top half looks infinite
		assert.True(t, math.IsNaN(float64(fromBF16(toBF16(math.Float32frombits(nan))))), "NaN %#08x", nan)
	}
}

func TestInt8Quantisation(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	const n, k = 37, 91
	w := make([]float32, n*k)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * math.Pow(10, float64(i/k%7-3))) // rows of different magnitudes
	}
	for q := range k {
		w[5*k+q] = 0 // a row of zeros
	}
	w[9*k+3] = 1e-40 // a subnormal alone in an otherwise zero row
	for q := range k {
		if q != 3 {
			w[9*k+q] = 0
		}
	}
	c, err := NewInt8(w, n, k)
	require.NoError(t, err)
	for j := range n {
		s := float64(c.Scale(j))
		top := 0
		for q := range k {
			v := int(c.q[j*k+q])
			top = max(top, v, -v)
			// the stored value, in exact arithmetic q·s, is within half a step of w
			d := math.Abs(float64(w[j*k+q]) - float64(c.q[j*k+q])*s)
			require.LessOrEqual(t, d, s/2, "row %d col %d: %v quantised to %d × %v", j, q, w[j*k+q], c.q[j*k+q], s)
		}
		switch j {
		case 5:
			assert.Zero(t, s, "a zero row has scale 0")
		default:
			assert.Equal(t, 127, top, "row %d: its largest magnitude maps to ±127", j)
		}
	}
	// At multiplies back
	assert.InDelta(t, float64(c.q[3*k+4])*float64(c.Scale(3)), float64(c.At(3, 4)), 1e-6*float64(c.Scale(3))*127)
	assert.Equal(t, n*k+8*n, c.Bytes(), "values, scales and row sums")
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		w[2*k+7] = bad
		_, err := NewInt8(w, n, k)
		assert.ErrorContains(t, err, "(2, 7)", "a %v weight", bad)
	}
	assert.Panics(t, func() { NewBF16(make([]float32, 5), 2, 3) })
}

// compactRef returns A (m×k) times wᵀ with w's values as At gives them, in float64, and Σ|a·w|
// for each output. Where thin int8 products quantise their activations (int8Activations, m ≤
// compactThinMaxM), A's values are taken as quantised: (q−128)·s_a, exactly, in float64; where
// thin bf16 products round them (bf16Activations), as rounded to bf16.
func compactRef(m int, a []float32, lda int, w *Compact) (want, mag []float64) {
	n, k := w.Dims()
	want, mag = make([]float64, m*n), make([]float64, m*n)
	quantised := w.Format() == Int8 && int8Activations() && m <= compactThinMaxM && k <= int8MaxK
	av := func(i, q int) float64 { return float64(a[i*lda+q]) }
	if quantised {
		qa := make([]uint8, m*k)
		sa := make([]float64, m)
		for i := range m {
			s, ok := quantiseActivations(a[i*lda:i*lda+k], qa[i*k:])
			if !ok {
				panic("compactRef: non-finite activations")
			}
			sa[i] = float64(s)
		}
		av = func(i, q int) float64 { return float64(int(qa[i*k+q])-128) * sa[i] }
	}
	if w.Format() == BF16 && bf16Activations() && m <= compactThinMaxM {
		av = func(i, q int) float64 { return float64(widenDAZ(toBF16DAZ(a[i*lda+q]))) }
	}
	for i := range m {
		for j := range n {
			for q := range k {
				p := av(i, q) * float64(w.At(j, q))
				want[i*n+j] += p
				mag[i*n+j] += math.Abs(p)
			}
		}
	}
	return want, mag
}

// compactBound is the allowed |MulCompactT - reference|: a float32 sum of k products has an error
// of at most about k·u·Σ|a·w| (u = 2⁻²⁴); the int8 scale, applied after the sum, and the blocked
// path's rounding of q·s to float32 add a few u·Σ|a·w| more; we allow twice (k+2)·u·Σ|a·w|. A
// wrong lane, a lost tail element or a misapplied scale errs by a whole term, about Σ|a·w|/k,
// hundreds of times more at these sizes.
func compactBound(k int, mag float64) float64 {
	const u = 0x1p-24
	return 2*float64(k+2)*u*mag + 1e-30
}

func newCompact(t *testing.T, f Format, w []float32, n, k int) *Compact {
	t.Helper()
	if f == BF16 {
		return NewBF16(w, n, k)
	}
	c, err := NewInt8(w, n, k)
	require.NoError(t, err)
	return c
}

func TestMulCompactTMatchesReference(t *testing.T) {
	forEachCompactPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(45, 46))
		for _, f := range []Format{BF16, Int8} {
			for _, m := range []int{1, 3, 4, 5, 32, 33, 100} {
				for _, n := range []int{1, 7, 65, 130} {
					for _, k := range []int{1, 5, 16, 31, 33, 64, 100, 775} {
						if m*n*k > 2_000_000 {
							continue // the float64 reference is slow
						}
						pad := (m + n + k) % 3
						w := newCompact(t, f, randSlice(rng, n*k), n, k)
						a := newMat(rng, m, k, pad)
						c := newMat(rng, m, n, pad)
						for i := range m {
							for j := range n {
								c.data[i*c.ld+j] = float32(math.NaN()) // C is not read
							}
						}
						before := c.clone()
						MulCompactT(m, a.data, a.ld, w, c.data, c.ld)
						want, mag := compactRef(m, a.data, a.ld, w)
						for i := range m {
							for j := range n {
								g := float64(c.data[i*c.ld+j])
								if d := math.Abs(g - want[i*n+j]); !(d <= compactBound(k, mag[i*n+j])) {
									t.Fatalf("%v m=%d n=%d k=%d: C[%d,%d] = %v, reference %v (diff %.3g, bound %.3g)", f, m, n, k, i, j, g, want[i*n+j], d, compactBound(k, mag[i*n+j]))
								}
							}
						}
						for idx, v := range c.data {
							if i, j := idx/c.ld, idx%c.ld; i >= m || j >= n {
								require.Equal(t, before.data[idx], v, "%v m=%d n=%d k=%d: element %d outside C was written", f, m, n, k, idx)
							}
						}
					}
				}
			}
		}
	})
}

// Every output of a thin product is computed the same way whatever the other rows of A: a row
// alone gets the bits it gets among 31 others (a sequence generating alone and in a batch).
func TestMulCompactTRowsIndependent(t *testing.T) {
	forEachCompactPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(47, 48))
		for _, f := range []Format{BF16, Int8} {
			for _, k := range []int{64, 77, 768} {
				const m, n = compactThinMaxM, 150
				w := newCompact(t, f, randSlice(rng, n*k), n, k)
				a := randSlice(rng, m*k)
				all := make([]float32, m*n)
				MulCompactT(m, a, k, w, all, n)
				for _, rows := range [][2]int{{0, 1}, {5, 8}, {3, 10}, {31, 32}} {
					i0, i1 := rows[0], rows[1]
					part := make([]float32, (i1-i0)*n)
					MulCompactT(i1-i0, a[i0*k:], k, w, part, n)
					requireBitwiseEqual(t, all[i0*n:i1*n], part, "%v k=%d rows %d..%d", f, k, i0, i1)
				}
			}
		}
	})
}

func TestMulCompactTIndependentOfWorkers(t *testing.T) {
	defer SetWorkers(Workers())
	forEachCompactPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(49, 50))
		// big enough (> parallelMinFlops) to be split; m = 100 takes the blocked path
		for _, s := range []struct{ m, n, k int }{{1, 5000, 300}, {5, 3000, 770}, {compactThinMaxM, 1000, 768}, {100, 600, 300}} {
			for _, f := range []Format{BF16, Int8} {
				w := newCompact(t, f, randSlice(rng, s.n*s.k), s.n, s.k)
				a := randSlice(rng, s.m*s.k)
				var ref []float32
				for _, workers := range []int{1, 2, 3, 16} {
					SetWorkers(workers)
					c := make([]float32, s.m*s.n)
					MulCompactT(s.m, a, s.k, w, c, s.n)
					if ref == nil {
						ref = c
						continue
					}
					requireBitwiseEqual(t, ref, c, "%v %+v workers=%d", f, s, workers)
				}
			}
		}
	})
}

func TestMulCompactTEdges(t *testing.T) {
	w := NewBF16(nil, 0, 4)
	MulCompactT(3, make([]float32, 12), 4, w, nil, 1) // n = 0: nothing to write
	w = NewBF16(nil, 3, 0)
	c := []float32{1, 2, 3, 4, 5, 6}
	MulCompactT(2, nil, 1, w, c, 3) // k = 0: empty sums
	assert.Equal(t, []float32{0, 0, 0, 0, 0, 0}, c)
	w = NewBF16(make([]float32, 6), 2, 3)
	assert.PanicsWithValue(t, "gemm: A has 5 elements, a 2×3 matrix with ld 3 needs 6", func() { MulCompactT(2, make([]float32, 5), 3, w, make([]float32, 4), 2) })
	assert.Panics(t, func() { MulCompactT(-1, nil, 3, w, nil, 2) })
	assert.Panics(t, func() { w.Rows([]int{2}, make([]float32, 3)) })
	got := make([]float32, 3)
	w.Rows([]int{1}, got)
	assert.Equal(t, []float32{0, 0, 0}, got)
}

// The activations' quantisation: each value within half a step of its original, the largest
// magnitude at ±127, a zero row at scale 0, a non-finite row refused.
func TestQuantiseActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, k := range []int{1, 7, 64, 300} {
		row := make([]float32, k)
		for q := range row {
			row[q] = float32(rng.NormFloat64() * 3)
		}
		dst := make([]uint8, k)
		s, ok := quantiseActivations(row, dst)
		require.True(t, ok)
		top := 0
		for q, v := range row {
			iq := int(dst[q]) - 128
			top = max(top, iq, -iq)
			require.LessOrEqual(t, math.Abs(float64(v)-float64(iq)*float64(s)), float64(s)/2, "k=%d q=%d", k, q)
		}
		require.Equal(t, 127, top)
	}
	dst := make([]uint8, 3)
	s, ok := quantiseActivations([]float32{0, 0, 0}, dst)
	require.True(t, ok)
	require.Zero(t, s)
	require.Equal(t, []uint8{128, 128, 128}, dst)
	_, ok = quantiseActivations([]float32{1, float32(math.Inf(1)), 2}, dst)
	require.False(t, ok)
}

// A row of activations holding a NaN cannot be quantised: the product falls back to the
// widening kernels, and the NaN reaches that row's outputs, not the others'.
func TestMulCompactTInt8NonFiniteActivations(t *testing.T) {
	forEachCompactPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(53, 54))
		const m, n, k = 5, 20, 128
		w := newCompact(t, Int8, randSlice(rng, n*k), n, k)
		a := randSlice(rng, m*k)
		a[2*k+17] = float32(math.NaN())
		c := make([]float32, m*n)
		MulCompactT(m, a, k, w, c, n)
		for i := range m {
			for j := range n {
				require.Equal(t, i == 2, math.IsNaN(float64(c[i*n+j])), "C[%d,%d] = %v", i, j, c[i*n+j])
			}
		}
	})
}

// Rows longer than the VNNI kernels' int32 lanes can sum without overflow are widened instead:
// with every activation and weight at its largest, a 70000-long row would overflow them.
func TestMulCompactTInt8LongRows(t *testing.T) {
	forEachCompactPath(t, func(t *testing.T) {
		const n, k = 2, 70000
		wv := make([]float32, n*k)
		for i := range wv {
			wv[i] = 1
		}
		w := newCompact(t, Int8, wv, n, k)
		a := make([]float32, k)
		for i := range a {
			a[i] = 2
		}
		c := make([]float32, n)
		MulCompactT(1, a, k, w, c, n)
		for _, v := range c {
			require.InDelta(t, 2*k, v, 2*k*1e-6)
		}
	})
}

// The vector quantiser gives quantiseRowGo's bytes, ties (values exactly half a step apart)
// included, at every length (the tail past a multiple of 16 runs in Go).
func TestQuantiseRowMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, k := range []int{1, 15, 16, 17, 64, 576, 1000} {
		row := make([]float32, k)
		for q := range row {
			row[q] = float32(rng.NormFloat64() * 3)
			if q%5 == 0 { // exactly on a half step: the rounding of ties shows
				row[q] = (float32(rng.IntN(200)) - 100.5) / 20
			}
		}
		var top float32
		for _, v := range row {
			top = max(top, v, -v)
		}
		inv := 127 / top
		want, got := make([]uint8, k), make([]uint8, k)
		quantiseRowGo(row, inv, want)
		quantiseRow(row, inv, got)
		require.Equal(t, want, got, "k=%d", k)
	}
	// ties at scale 1: half-way values round to the even neighbour in both
	row := make([]float32, 40)
	for q := range row {
		row[q] = float32(q%20) - 9.5 + float32(q/20)*100
	}
	want, got := make([]uint8, len(row)), make([]uint8, len(row))
	quantiseRowGo(row, 1, want)
	quantiseRow(row, 1, got)
	require.Equal(t, want, got)
	assert.Equal(t, uint8(128-10), want[0], "-9.5 rounds to -10")
	assert.Equal(t, uint8(128-8), want[1], "-8.5 rounds to -8")
}

// The vector absMax finds absMaxGo's largest magnitude, and every NaN or infinity, wherever it
// sits (in the vector part or the tail).
func TestAbsMaxMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	for _, k := range []int{1, 16, 17, 576, 1000} {
		row := make([]float32, k)
		for q := range row {
			row[q] = float32(rng.NormFloat64() * 3)
		}
		want, _ := absMaxGo(row)
		got, ok := absMax(row)
		require.True(t, ok)
		require.Equal(t, want, got, "k=%d", k)
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			for _, at := range []int{0, k / 2, k - 1} {
				saved := row[at]
				row[at] = bad
				_, ok := absMax(row)
				require.False(t, ok, "k=%d, %v at %d", k, bad, at)
				row[at] = saved
			}
		}
	}
}

// The vector epilogue of the int8 products gives int8Columns' Go arithmetic bit for bit.
func TestInt8EpilogueMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(57, 58))
	const n, k = 45, 576
	sums, wsum := make([]int32, n), make([]int32, n)
	scale := make([]float32, n)
	for j := range n {
		sums[j] = rng.Int32N(2*255*127*k) - 255*127*k
		wsum[j] = rng.Int32N(2*127*k) - 127*k
		scale[j] = float32(rng.Float64() / 100)
	}
	const sa = float32(0.0123)
	got := make([]float32, n)
	done := int8Epilogue(k, sums, wsum, scale, sa, got)
	if int8Activations() {
		require.Equal(t, 32, done)
	}
	for j := range done {
		want := float32(int64(sums[j])-128*int64(wsum[j])) * sa * scale[j]
		require.Equal(t, want, got[j], "column %d", j)
	}
}
