package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// bf16Reference computes SgemmBF16's result straight from the definition (see bf16.go), without
// packing or tiles: each input rounded by toBF16DAZ, each K block (kBlock of at most kc) summed from +0 pair by
// pair (the odd element's product, then the even one's, each added with one rounding and
// flushed), the blocks added to C in order.
func bf16Reference(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool, kc int) {
	at := func(i, p int) float32 {
		if p >= k {
			return 0
		}
		if transA {
			return widenDAZ(toBF16DAZ(a[p*lda+i]))
		}
		return widenDAZ(toBF16DAZ(a[i*lda+p]))
	}
	bt := func(p, j int) float32 {
		if p >= k {
			return 0
		}
		if transB {
			return widenDAZ(toBF16DAZ(b[j*ldb+p]))
		}
		return widenDAZ(toBF16DAZ(b[p*ldb+j]))
	}
	kc = kBlock(k, kc, transA)
	for i := range m {
		for j := range n {
			for pc := 0; pc < k; pc += kc {
				var s float32
				for p := pc; p < min(pc+kc, k); p += 2 {
					s = ftz(s + ftz(float32(at(i, p+1)*bt(p+1, j))))
					s = ftz(s + ftz(float32(at(i, p)*bt(p, j))))
				}
				if accumulate || pc > 0 {
					c[i*ldc+j] += s
				} else {
					c[i*ldc+j] = s
				}
			}
		}
	}
}

var bf16Shapes = []shape{
	{false, false, 1, 1, 1}, {false, true, 8, 32, 2}, {true, false, 12, 32, 3},
	{false, false, 7, 33, 17}, {true, true, 13, 70, 64}, {false, true, 33, 31, 45},
	{true, false, 40, 65, 100}, {false, false, 100, 96, 37}, {false, true, 24, 64, 129},
	{true, false, 64, 96, 256}, // a weight gradient big enough for two workers: K blocks split
}

// runBF16 runs one shape through kernel kn with K blocks of kc on workers goroutines and
// returns its C and the reference's (C starting from the same values when accumulating).
func runBF16(t *testing.T, kn *bf16Kernel, s shape, accumulate bool, kc, workers int) (got, want mat, a, b mat) {
	rng := rand.New(rand.NewPCG(uint64(s.m*1000+s.n), uint64(s.k)))
	ar, ac := s.m, s.k
	if s.transA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.transB {
		br, bc = s.n, s.k
	}
	a, b = newMat(rng, ar, ac, 3), newMat(rng, br, bc, 5)
	got = newMat(rng, s.m, s.n, 2)
	want = got.clone()
	p := problem{s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, got.data, got.ld, accumulate}
	kn.gemm(&p, kc, workers)
	bf16Reference(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, want.data, want.ld, accumulate, kc)
	return got, want, a, b
}

// Every kernel this machine runs (the pure-Go one everywhere, VDPBF16PS where the CPU has it)
// gives, through packing, tiles, edge tiles and K blocks, the reference's bits; the gap between
// C's rows (the sentinel) is never written.
func TestBF16KernelsMatchReference(t *testing.T) {
	for _, kn := range bf16Kernels() {
		for _, s := range bf16Shapes {
			for _, acc := range []bool{false, true} {
				for _, kc := range []int{16, 64, 1024} {
					name := fmt.Sprintf("%s/%v/acc=%v/kc=%d", kn.name, s, acc, kc)
					got, want, _, _ := runBF16(t, kn, s, acc, kc, 2)
					for i := range got.data {
						if got.data[i] != want.data[i] {
							t.Fatalf("%s: element %d (row %d) = %v, want %v", name, i, i/got.ld, got.data[i], want.data[i])
						}
					}
				}
			}
		}
	}
}

// SgemmBF16 against the exact product (float64 of the float32 inputs): the error is what rounding
// the two inputs to 8 significant bits allows, |Δ| ≤ 2·2⁻⁸·Σ|a||b| (a product of two values each
// within a relative 2⁻⁸ of their originals is within about 2·2⁻⁸ of theirs) plus float32
// accumulation, k·2⁻²³·Σ|a||b|; and on a CPU that multiplies in bf16 it must also be larger than
// float32's error, or the inputs were not rounded.
func TestSgemmBF16AgainstExact(t *testing.T) {
	worst := 0.0
	for _, s := range bf16Shapes {
		rng := rand.New(rand.NewPCG(7, uint64(s.k)))
		ar, ac := s.m, s.k
		if s.transA {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.transB {
			br, bc = s.n, s.k
		}
		a, b := newMat(rng, ar, ac, 1), newMat(rng, br, bc, 0)
		c := newMat(rng, s.m, s.n, 0)
		SgemmBF16(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, c.data, c.ld, false)
		for i := range s.m {
			for j := range s.n {
				var exact, abs float64
				for p := range s.k {
					var av, bv float64
					if s.transA {
						av = float64(a.data[p*a.ld+i])
					} else {
						av = float64(a.data[i*a.ld+p])
					}
					if s.transB {
						bv = float64(b.data[j*b.ld+p])
					} else {
						bv = float64(b.data[p*b.ld+j])
					}
					exact += av * bv
					abs += math.Abs(av * bv)
				}
				d := math.Abs(float64(c.data[i*c.ld+j]) - exact)
				tol := (2*math.Exp2(-8)*1.01+float64(s.k)*math.Exp2(-23))*abs + 1e-30
				require.LessOrEqualf(t, d, tol, "%v (%d,%d)", s, i, j)
				worst = max(worst, d/abs)
			}
		}
	}
	t.Logf("largest error / Σ|a·b|: %.3g (native bf16: %v)", worst, BF16Native())
	if BF16Native() {
		require.Greater(t, worst, math.Exp2(-12), "errors of float32 size: were the inputs rounded to bf16?")
	}
}

// The result does not depend on the worker count, to the bit, with A as stored or transposed
// (the weight gradients' form, whose row tasks are whole cache lines of A on several workers).
func TestSgemmBF16SameBitsAnyWorkers(t *testing.T) {
	defer SetWorkers(0)
	rng := rand.New(rand.NewPCG(3, 4))
	m, n, k := 200, 150, 1100 // several K blocks, row tasks and an edge column panel
	a, b := newMat(rng, m, k, 0), newMat(rng, n, k, 0)
	at := newMat(rng, k, m, 0)
	for _, transA := range []bool{false, true} {
		var first []float32
		for _, w := range []int{1, 2, 3, 5} {
			SetWorkers(w)
			c := make([]float32, m*n)
			if transA {
				SgemmBF16(true, true, m, n, k, at.data, m, b.data, k, c, n, false)
			} else {
				SgemmBF16(false, true, m, n, k, a.data, k, b.data, k, c, n, false)
			}
			if first == nil {
				first = c
				continue
			}
			require.Equal(t, first, c, "transA %v, workers=%d", transA, w)
		}
	}
}

// A batch of bf16 products (attention's heads) gives each product's SgemmBF16 bits, whether the
// products are shared among the workers whole (at least as many as workers) or each is split
// (fewer), with offsets that repeat (a KV head read by two query heads), accumulating or not,
// in the transposed forms attention's backward pass uses.
func TestSgemmBF16BatchedIsEachProduct(t *testing.T) {
	defer SetWorkers(0)
	rng := rand.New(rand.NewPCG(5, 6))
	const m, n, k = 40, 33, 70
	a, b := newMat(rng, 8*m*k, 1, 0).data, newMat(rng, 4*n*k, 1, 0).data
	for _, tr := range [][2]bool{{false, true}, {false, false}, {true, false}} {
		lda, ldb := k, n
		if tr[0] {
			lda = m
		}
		if tr[1] {
			ldb = k
		}
		for _, count := range []int{1, 8} {
			offs := make([]BatchOffsets, count)
			for i := range offs {
				offs[i] = BatchOffsets{A: i * m * k, B: (i / 2) * n * k, C: i * m * n}
			}
			for _, acc := range []bool{false, true} {
				init := newMat(rng, 8*m*n, 1, 0).data
				want := slices.Clone(init)
				for _, o := range offs {
					SgemmBF16(tr[0], tr[1], m, n, k, a[o.A:], lda, b[o.B:], ldb, want[o.C:], n, acc)
				}
				for _, w := range []int{1, 2, 3} {
					SetWorkers(w)
					got := slices.Clone(init)
					SgemmBF16Batched(tr[0], tr[1], m, n, k, a, lda, b, ldb, got, n, offs, acc)
					require.Equal(t, want, got, "trans %v, %d products, accumulate %v, workers %d", tr, count, acc, w)
				}
				SetWorkers(0)
			}
		}
	}
}

// The rounding: ties to even, a float32 subnormal flushed, NaN kept quiet, overflow to infinity.
func TestToBF16DAZ(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even below
		{0x3f818000, 0x3f82}, // tie, odd below: up
		{0x3f808001, 0x3f81}, // above the tie
		{0x00400000, 0x0000}, // subnormal: flushed
		{0x807fffff, 0x8000}, // negative subnormal: -0
		{0x7f7fffff, 0x7f80}, // largest float32 rounds to +Inf
		{0x7fa00000, 0x7fe0}, // signalling NaN made quiet
	}
	for _, c := range cases {
		require.Equalf(t, c.want, toBF16DAZ(math.Float32frombits(c.in)), "%#08x", c.in)
	}
}

// Denormals as VDPBF16PS treats them: subnormal inputs read as zero, subnormal products and sums
// flushed. Values around 2⁻⁶³ make products near float32's smallest normal, 2⁻¹²⁶, some below.
func TestBF16KernelsDenormals(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	m, n, k := 8, 32, 40
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(rng.Float64()*2-1) * float32(math.Exp2(-63))
	}
	for i := range b {
		b[i] = float32(rng.Float64()*2-1) * float32(math.Exp2(-63))
		if i%7 == 0 {
			b[i] = math.Float32frombits(uint32(rng.IntN(0x7fffff) + 1)) // a float32 subnormal
		}
	}
	want := make([]float32, m*n)
	bf16Reference(false, false, m, n, k, a, k, b, n, want, n, false, 1024)
	flushed := 0
	for _, v := range want {
		if v == 0 {
			flushed++
		}
	}
	require.Greater(t, flushed, 0, "the test should produce flushed sums")
	for _, kn := range bf16Kernels() {
		got := make([]float32, m*n)
		p := problem{false, false, m, n, k, a, k, b, n, got, n, false}
		kn.gemm(&p, 1024, 1)
		require.Equal(t, want, got, kn.name)
	}
}

// The packing conversions (VCVTNE2PS2BF16 / VCVTNEPS2BF16 where the CPU has them) round exactly
// as toBF16DAZ, specials included, for every length (vector chunks and tails).
func TestBF16PairConversions(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	specials := []uint32{0x3f808000, 0x3f818000, 0x00400000, 0x807fffff, 0x7f7fffff, 0x7fa00000, 0xffc00001, 0x7f800000, 0x80000000}
	gen := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			if rng.IntN(4) == 0 {
				x[i] = math.Float32frombits(specials[rng.IntN(len(specials))])
			} else {
				x[i] = math.Float32frombits(rng.Uint32())
			}
		}
		return x
	}
	same := func(a, b []uint32) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	for _, n := range []int{1, 15, 16, 31, 32, 33, 64, 95, 130} {
		src := gen(n)
		got, want := make([]uint32, (n+1)/2), make([]uint32, (n+1)/2)
		cvtPairs(got, src)
		cvtPairsGo(want, src)
		require.True(t, same(got, want), "cvtPairs n=%d", n)
		r1 := gen(n)
		got, want = make([]uint32, n), make([]uint32, n)
		pairRows(got, src, r1)
		pairRowsGo(want, src, r1)
		require.True(t, same(got, want), "pairRows n=%d", n)
		pairRows(got, src, nil)
		pairRowsGo(want, src, nil)
		require.True(t, same(got, want), "pairRows n=%d, no second row", n)
	}
}
