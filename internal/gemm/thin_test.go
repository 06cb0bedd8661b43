package gemm

import (
	"math/rand/v2"
	"testing"
)

// Thin products (m < thinMaxM) skip packing; they must agree with Naive for every transposition,
// across thinColumnBlock boundaries, and not depend on the worker count.
func TestThinProductsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	i := 0
	for _, m := range []int{1, 2, 3, 4, 5, 8, 13, thinMaxMT} { // above 3, only B transposed is thin
		for _, n := range []int{1, 7, 33, 127, thinColumnBlock + 5} {
			for _, k := range []int{1, 5, 16, 33, 130, 768} {
				for _, s := range allShapes([]int{m}) {
					s.n, s.k = n, k
					checkAgainstNaive(t, s, i%3*2, i%2 == 0, rng, Sgemm)
					i++
				}
			}
		}
	}
}

func TestThinProductsIndependentOfWorkers(t *testing.T) {
	defer SetWorkers(Workers())
	rng := rand.New(rand.NewPCG(23, 24))
	// big enough (> parallelMinFlops) to be split across workers
	for _, s := range []shape{{false, true, 1, 5000, 300}, {false, false, 2, 3000, 400}, {true, true, 3, 2500, 300}, {false, true, 8, 3000, 768}, {false, true, thinMaxMT, 1000, 770}, {true, true, 7, 1000, 512}} {
		a, b, c := operands(rng, s, 1)
		var ref []float32
		for _, w := range []int{1, 2, 3, 16} {
			SetWorkers(w)
			got := c.clone()
			Sgemm(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, got.data, got.ld, false)
			if ref == nil {
				ref = got.data
				continue
			}
			requireBitwiseEqual(t, ref, got.data, "%v workers=%d", s, w)
		}
	}
	// batched thin products, as a KV-cached attention step makes
	for _, w := range []int{1, 2} {
		SetWorkers(w)
		const batch, m, n, k = 48, 1, 40, 32
		a, b := randSlice(rng, batch*m*k), randSlice(rng, batch*n*k)
		offs := make([]BatchOffsets, batch)
		for i := range offs {
			offs[i] = BatchOffsets{A: i * m * k, B: i * n * k, C: i * m * n}
		}
		got := make([]float32, batch*m*n)
		SgemmBatched(false, true, m, n, k, a, k, b, k, got, n, offs, false)
		want := make([]float32, batch*m*n)
		for _, o := range offs {
			Naive(false, true, m, n, k, a[o.A:], k, b[o.B:], k, want[o.C:], n, false)
		}
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("batched thin product element %d: %v, naive %v", i, got[i], want[i])
			}
		}
	}
}

// A thin product's row is the same bits whatever rows stand beside it: decoding one sequence and
// many together must agree (model.GenerateBatch's promise), also when the product accumulates onto
// C (a Linear's bias, Affine) or k has a tail past a multiple of 16, where rows are taken four at
// a time into scratch and finished one by one.
func TestThinRowsIndependentOfTheBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, k := range []int{16, 40, 768} {
		for _, accumulate := range []bool{false, true} {
			const m, n = 9, 3*thinDotBlock + 5
			a, b, c0 := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, m*n)
			all := append([]float32(nil), c0...)
			Sgemm(false, true, m, n, k, a, k, b, k, all, n, accumulate)
			for i := range m {
				one := append([]float32(nil), c0[i*n:(i+1)*n]...)
				Sgemm(false, true, 1, n, k, a[i*k:], k, b, k, one, n, accumulate)
				requireBitwiseEqual(t, one, all[i*n:(i+1)*n], "k=%d accumulate=%v row %d", k, accumulate, i)
			}
		}
	}
}
