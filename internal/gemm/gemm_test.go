package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// mat is a test operand: a rows×cols matrix inside a slice with leading
// dimension ld >= cols, the gap filled with a sentinel to catch stray writes.
type mat struct {
	rows, cols, ld int
	data           []float32
}

const sentinel = float32(-12345.5)

func newMat(rng *rand.Rand, rows, cols, pad int) mat {
	ld := cols + pad
	if ld == 0 {
		ld = 1
	}
	data := make([]float32, max(rows*ld, 1))
	for i := range data {
		data[i] = sentinel
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			data[i*ld+j] = float32(rng.Float64()*2 - 1)
		}
	}
	return mat{rows, cols, ld, data}
}

func (x mat) clone() mat {
	x.data = append([]float32(nil), x.data...)
	return x
}

// errorBound is the allowed |ours - naive| for element (i, j). Each of the two
// results sums k products in float32 in some order; a recursive sum of k
// terms has error at most about k·u·Σ|a_ip·b_pj| (u = 2⁻²⁴, the unit
// roundoff; FMA only tightens it), plus one rounding of the final c + s.
// The difference of two such results is bounded by twice that; we allow a
// factor 2 more for slack, which is still far below any indexing error (those
// are of the order of Σ|a·b| itself).
func errorBound(absSum, c0 float64, k int) float64 {
	const u = 1.0 / (1 << 24)
	return 4*float64(k+1)*u*(absSum+math.Abs(c0)) + 1e-30
}

type shape struct {
	transA, transB bool
	m, n, k        int
}

func (s shape) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d", t(s.transA), t(s.transB), s.m, s.n, s.k)
}

// operands builds A, B and C for a shape, with ld padding pad.
func operands(rng *rand.Rand, s shape, pad int) (a, b, c mat) {
	if s.transA {
		a = newMat(rng, s.k, s.m, pad)
	} else {
		a = newMat(rng, s.m, s.k, pad)
	}
	if s.transB {
		b = newMat(rng, s.n, s.k, pad)
	} else {
		b = newMat(rng, s.k, s.n, pad)
	}
	c = newMat(rng, s.m, s.n, pad)
	return
}

func elem(x mat, trans bool, i, j int) float32 {
	if trans {
		return x.data[j*x.ld+i]
	}
	return x.data[i*x.ld+j]
}

// checkAgainstNaive runs gemm (a Sgemm-shaped function) and Naive on copies
// of the same operands and compares every element, and the padding.
func checkAgainstNaive(t *testing.T, s shape, pad int, accumulate bool, rng *rand.Rand,
	gemm func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool)) {
	t.Helper()
	a, b, c := operands(rng, s, pad)
	want := c.clone()
	got := c.clone()
	if !accumulate {
		// C must not be read: poison it.
		for i := 0; i < s.m; i++ {
			for j := 0; j < s.n; j++ {
				got.data[i*got.ld+j] = float32(math.NaN())
			}
		}
	}
	Naive(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, want.data, want.ld, accumulate)
	gemm(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, got.data, got.ld, accumulate)
	for i := 0; i < s.m; i++ {
		for j := 0; j < s.n; j++ {
			var absSum float64
			for p := 0; p < s.k; p++ {
				absSum += math.Abs(float64(elem(a, s.transA, i, p)) * float64(elem(b, s.transB, p, j)))
			}
			c0 := 0.0
			if accumulate {
				c0 = float64(c.data[i*c.ld+j])
			}
			g, w := got.data[i*got.ld+j], want.data[i*want.ld+j]
			if d := math.Abs(float64(g) - float64(w)); !(d <= errorBound(absSum, c0, s.k)) {
				t.Fatalf("%v pad=%d acc=%v: C[%d,%d] = %v, naive %v (diff %g, bound %g)",
					s, pad, accumulate, i, j, g, w, d, errorBound(absSum, c0, s.k))
			}
		}
	}
	for idx, v := range got.data {
		if i, j := idx/got.ld, idx%got.ld; i >= s.m || j >= s.n {
			require.Equal(t, c.data[idx], v, "%v: element %d outside C was written", s, idx)
		}
	}
}

// allShapes crosses odd and round sizes with all four transpositions.
func allShapes(dims []int) []shape {
	var out []shape
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range dims {
						out = append(out, shape{ta, tb, m, n, k})
					}
				}
			}
		}
	}
	return out
}

func kernelGemm(kn *microKernel, workers int) func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	return func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
		checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
		p := problem{transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate}
		kn.sgemm(&p, workers)
	}
}

// smallBlocks returns a copy of kn with tiny cache blocks so that small
// matrices already cross several K, row and column blocks.
func smallBlocks(kn *microKernel) *microKernel {
	c := *kn
	c.kc, c.mc, c.nc = 5, 2*kn.mr, 2*kn.nr
	c.name += "-smallblocks"
	return &c
}

func TestSgemmMatchesNaive(t *testing.T) {
	dims := []int{0, 1, 3, 7, 16, 33, 127}
	if testing.Short() {
		dims = []int{0, 1, 7, 33}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i, s := range allShapes(dims) {
		checkAgainstNaive(t, s, i%3*2, i%2 == 0, rng, Sgemm)
	}
}

func TestEveryKernelMatchesNaive(t *testing.T) {
	dims := []int{1, 3, 8, 33, 70}
	for _, kn := range supportedKernels() {
		for _, variant := range []*microKernel{kn, smallBlocks(kn)} {
			t.Run(variant.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(3, 4))
				for i, s := range allShapes(dims) {
					checkAgainstNaive(t, s, i%2*5, i%3 == 0, rng, kernelGemm(variant, 1))
				}
			})
		}
	}
}

// TestLargeBlocks crosses the kc, mc and nc boundaries of every kernel: the
// real kc (which decides how sums are split, so it is kept) and mc and nc cut
// down to a few micro-tiles so that the naive oracle stays quick.
func TestLargeBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, real := range supportedKernels() {
		kn := *real
		kn.mc, kn.nc = min(kn.mc, 6*kn.mr), min(kn.nc, 4*kn.nr)
		for _, s := range []shape{
			{false, false, 2*kn.mc + 3, kn.nc + kn.nr + 5, kn.kc + 17},
			{true, true, kn.mc + 1, 70, 2*kn.kc + 1},
			{true, false, 65, 128, 768},
			{false, true, 768, 65, 128},
		} {
			checkAgainstNaive(t, s, 1, true, rng, kernelGemm(&kn, 3))
		}
	}
}

// TestMicroKernelContract calls every kernel (and narrow variant) directly on
// one tile, including accumulate and a C leading dimension larger than nr.
func TestMicroKernelContract(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kn := range tileKernels() {
		width := kn.width
		for _, k := range []int{1, 2, 3, 4, 5, 17, 256} {
			for _, acc := range []bool{false, true} {
				a := make([]float32, kn.mr*k)
				b := make([]float32, kn.nr*k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				for i := range b {
					b[i] = float32(rng.NormFloat64())
				}
				ldc := kn.nr + 3
				c := make([]float32, kn.mr*ldc)
				for i := range c {
					c[i] = float32(rng.NormFloat64())
				}
				c0 := append([]float32(nil), c...)
				kn.fn(k, a, b, c, ldc, acc)
				for i := 0; i < kn.mr; i++ {
					for j := 0; j < ldc; j++ {
						if j >= width {
							require.Equal(t, c0[i*ldc+j], c[i*ldc+j], "%s wrote past its tile", kn.name)
							continue
						}
						var s, abs float64
						for p := 0; p < k; p++ {
							s += float64(a[p*kn.mr+i]) * float64(b[p*kn.nr+j])
							abs += math.Abs(float64(a[p*kn.mr+i]) * float64(b[p*kn.nr+j]))
						}
						if acc {
							s += float64(c0[i*ldc+j])
						}
						require.InDelta(t, s, float64(c[i*ldc+j]), errorBound(abs, float64(c0[i*ldc+j]), k),
							"%s k=%d acc=%v (%d,%d)", kn.name, k, acc, i, j)
					}
				}
			}
		}
	}
}

// tileKernel is one micro-kernel entry point: a kernel's fn or its narrow fnNarrow.
type tileKernel struct {
	name          string
	mr, nr, width int // nr is the B panel stride, width the columns written
	fn            func(k int, a, b, c []float32, ldc int, accumulate bool)
}

// tileKernels lists every micro-kernel entry point this machine can run.
func tileKernels() []tileKernel {
	var out []tileKernel
	for _, kn := range supportedKernels() {
		out = append(out, tileKernel{kn.name, kn.mr, kn.nr, kn.nr, kn.fn})
		if kn.fnNarrow != nil {
			out = append(out, tileKernel{kn.name + "-narrow", kn.mr, kn.nr, kn.nrNarrow, kn.fnNarrow})
		}
	}
	return out
}

// TestMicroKernelSpecialValues checks that every kernel propagates NaN and
// ±Inf as IEEE arithmetic does (a NaN in A poisons its row, an Inf in B its
// column, +Inf and -Inf in one sum give NaN), adds an Inf already in C when
// accumulating, and never reads C otherwise (C is poisoned with NaN). The
// expected class of each element comes from the same sum in float64, whose
// products of float32 values are exact and cannot overflow here.
func TestMicroKernelSpecialValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, kn := range tileKernels() {
		mr, nr, width := kn.mr, kn.nr, kn.width
		for _, k := range []int{1, 2, 5, 17} {
			for _, acc := range []bool{false, true} {
				a := randSlice(rng, mr*k)
				b := randSlice(rng, nr*k)
				last := (k - 1) * nr // the last k step's B row
				a[k/2*mr+mr-1] = nan // poisons row mr-1
				b[width-1] = inf     // column width-1: ±Inf ...
				if k > 1 {
					b[last+width-1] = -inf // ... or NaN where the two infinite products differ in sign
				}
				b[last] = -inf           // column 0: ±Inf
				b[last+width/2] = nan    // column width/2: NaN
				b[last+width/2-1] = 1e38 // column width/2-1: large but finite
				ldc := nr + 3
				c0 := randSlice(rng, mr*ldc)
				if acc {
					c0[1] = inf // row 0, column 1
				} else {
					for i := 0; i < mr; i++ {
						for j := 0; j < width; j++ {
							c0[i*ldc+j] = nan
						}
					}
				}
				c := append([]float32(nil), c0...)
				kn.fn(k, a, b, c, ldc, acc)
				for i := 0; i < mr; i++ {
					for j := 0; j < ldc; j++ {
						got := c[i*ldc+j]
						if j >= width {
							require.Equal(t, math.Float32bits(c0[i*ldc+j]), math.Float32bits(got), "%s wrote past its tile", kn.name)
							continue
						}
						var s, abs float64
						for p := 0; p < k; p++ {
							prod := float64(a[p*mr+i]) * float64(b[p*nr+j])
							s += prod
							if !math.IsInf(prod, 0) && !math.IsNaN(prod) {
								abs += math.Abs(prod)
							}
						}
						if acc {
							s += float64(c0[i*ldc+j])
						}
						where := fmt.Sprintf("%s k=%d acc=%v (%d,%d)", kn.name, k, acc, i, j)
						switch {
						case math.IsNaN(s):
							require.True(t, math.IsNaN(float64(got)), "%s: got %v, want NaN", where, got)
						case math.IsInf(s, 0):
							require.Equal(t, s, float64(got), where)
						default:
							c := 0.0
							if acc {
								c = float64(c0[i*ldc+j])
							}
							require.InDelta(t, s, float64(got), errorBound(abs, c, k), where)
						}
					}
				}
			}
		}
	}
}

// TestWorkerCountInvariance checks the results are bitwise identical for any
// worker count, for single and batched products, on every kernel.
func TestWorkerCountInvariance(t *testing.T) {
	defer SetWorkers(Workers())
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := []shape{
		{false, false, 200, 190, 300},
		{false, true, 768, 65, 128},
		{true, false, 130, 384, 300},
		{true, true, 97, 300, 257},
	}
	for _, kn := range supportedKernels() {
		for _, s := range shapes {
			a, b, c := operands(rng, s, 3)
			var ref []float32
			for _, w := range []int{1, 2, 3, 4, 7, 16} {
				got := c.clone()
				kernelGemm(kn, w)(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, got.data, got.ld, true)
				if ref == nil {
					ref = got.data
					continue
				}
				requireBitwiseEqual(t, ref, got.data, "%s %v workers=%d", kn.name, s, w)
			}
		}
	}
	// Batched, through the public API, with batches smaller and larger
	// than the worker count.
	for _, batch := range []int{1, 3, 48} {
		m, n, k := 64, 64, 96
		a := randSlice(rng, batch*m*k)
		b := randSlice(rng, k*n)
		offs := make([]BatchOffsets, batch)
		for i := range offs {
			offs[i] = BatchOffsets{A: i * m * k, B: 0, C: i * m * n}
		}
		var ref []float32
		for _, w := range []int{1, 2, 5, 16} {
			SetWorkers(w)
			c := make([]float32, batch*m*n)
			SgemmBatched(false, false, m, n, k, a, k, b, n, c, n, offs, false)
			if ref == nil {
				ref = c
				continue
			}
			requireBitwiseEqual(t, ref, c, "batch=%d workers=%d", batch, w)
		}
	}
}

func requireBitwiseEqual(t *testing.T, want, got []float32, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("element %d: %v != %v: %s", i, got[i], want[i], fmt.Sprintf(msgAndArgs[0].(string), msgAndArgs[1:]...))
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	return x
}

func TestSgemmBatchedMatchesNaive(t *testing.T) {
	defer SetWorkers(Workers())
	rng := rand.New(rand.NewPCG(11, 12))
	for _, w := range []int{1, 4} {
		SetWorkers(w)
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, batch := range []int{1, 2, 7} {
				m, n, k := 37, 45, 29
				if batch == 2 {
					m, n, k = 160, 150, 140 // big enough to run in parallel
				}
				lda, ldb, ldc := k+1, n+2, n+3
				if tr[0] {
					lda = m + 1
				}
				if tr[1] {
					ldb = k + 2
				}
				aSize, bSize, cSize := max(m, k)*lda, max(n, k)*ldb, m*ldc
				a := randSlice(rng, 2*aSize)
				b := randSlice(rng, bSize) // broadcast: every product shares B
				c := randSlice(rng, batch*cSize)
				want := append([]float32(nil), c...)
				offs := make([]BatchOffsets, batch)
				for i := range offs {
					offs[i] = BatchOffsets{A: (i % 2) * aSize, B: 0, C: i * cSize}
					o := offs[i]
					Naive(tr[0], tr[1], m, n, k, a[o.A:], lda, b[o.B:], ldb, want[o.C:], ldc, true)
				}
				SgemmBatched(tr[0], tr[1], m, n, k, a, lda, b, ldb, c, ldc, offs, true)
				for i := range c {
					// Σ|a·b| <= k for entries in [-1, 1]; |c0| <= 1 plus
					// the sum: use the element-independent bound.
					require.InDelta(t, want[i], c[i], errorBound(float64(k), float64(k+1), k), "batch=%d %v elem %d", batch, tr, i)
				}
			}
		}
	}
}

func TestKZeroAndEmpty(t *testing.T) {
	c := []float32{1, 2, 3, 4, 5, 6}
	Sgemm(false, false, 2, 3, 0, nil, 1, nil, 3, c, 3, true)
	require.Equal(t, []float32{1, 2, 3, 4, 5, 6}, c)
	Sgemm(false, false, 2, 2, 0, nil, 1, nil, 2, c, 3, false)
	require.Equal(t, []float32{0, 0, 3, 0, 0, 6}, c)
	Sgemm(true, true, 0, 0, 5, nil, 1, nil, 5, nil, 1, false)
	SgemmBatched(false, false, 2, 2, 2, nil, 2, nil, 2, nil, 2, nil, false)
}

func TestBadArgumentsPanic(t *testing.T) {
	a := make([]float32, 6)
	require.Panics(t, func() { Sgemm(false, false, 2, 2, 3, a, 2, a, 2, a, 2, false) }, "lda < k")
	require.Panics(t, func() { Sgemm(false, false, 3, 2, 3, a, 3, a, 2, a, 2, false) }, "A too short")
	require.Panics(t, func() { Sgemm(false, false, -1, 2, 3, a, 3, a, 2, a, 2, false) }, "negative m")
	require.Panics(t, func() {
		SgemmBatched(false, false, 2, 3, 1, a, 1, a, 3, a, 3, []BatchOffsets{{C: 1}}, false)
	}, "C offset past the end")
}

func TestWorkers(t *testing.T) {
	defer SetWorkers(Workers())
	SetWorkers(3)
	require.Equal(t, 3, Workers())
	SetWorkers(0)
	require.GreaterOrEqual(t, Workers(), 1)
	t.Logf("kernel in use: %s", KernelName())
}
