package gemm

import (
	"fmt"

	"github.com/goformer/goformer/internal/parallel"
)

// BatchOffsets gives the element offsets of one matrix product's A, B and C within the shared slices.
type BatchOffsets struct{ A, B, C int }

// SgemmBatched runs len(offsets) independent products of the same shape (as Sgemm, each at its offsets),
// parallel across the batch (and within products when the batch is smaller than the worker count).
// Offsets may repeat for A or B (broadcast batch dims); C offsets never overlap.
func SgemmBatched(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, offsets []BatchOffsets, accumulate bool) {
	if len(offsets) == 0 {
		return
	}
	for _, o := range offsets {
		if o.A < 0 || o.B < 0 || o.C < 0 || o.A > len(a) || o.B > len(b) || o.C > len(c) {
			panic(fmt.Sprintf("gemm: batch offsets %+v out of range", o))
		}
		checkArgs(transA, transB, m, n, k, a[o.A:], lda, b[o.B:], ldb, c[o.C:], ldc)
	}
	workers := Workers()
	flops := 2 * float64(m) * float64(n) * float64(k) * float64(len(offsets))
	thinBatch := m > 0 && n > 0 && k > 0 && m < thinMaxM
	if thinBatch && (workers <= 1 || flops < parallelMinFlops) {
		// before any closure exists (a decoding step's attention makes two such calls a layer):
		// each thin product in turn
		for _, o := range offsets {
			p := problem{transA, transB, m, n, k, a[o.A:], lda, b[o.B:], ldb, c[o.C:], ldc, accumulate}
			thin(&p, 1)
		}
		return
	}
	kn := tunedKernel().forRows(m)
	at := func(i int) problem {
		o := offsets[i]
		return problem{transA, transB, m, n, k, a[o.A:], lda, b[o.B:], ldb, c[o.C:], ldc, accumulate}
	}
	if thinBatch {
		// thin products (a KV-cached attention step): one whole product per task. (Not the
		// B-transposed products of up to thinMaxMT rows that Sgemm sends to the thin path: that
		// rule pays for itself on large weights read once, while batched products are small
		// blocks of attention scores, which the blocked kernel multiplies faster.)
		parallel.For(len(offsets), workers, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				p := at(i)
				thin(&p, 1)
			}
		})
		return
	}
	if workers <= 1 || flops < parallelMinFlops || m == 0 || n == 0 || k == 0 {
		for i := range offsets {
			p := at(i)
			kn.sgemm(&p, 1)
		}
		return
	}
	if len(offsets) >= workers {
		// One product per task: each is computed whole by one goroutine.
		parallelFor(len(offsets), workers, func(t int, ws *workspace) {
			p := at(t)
			kn.gemmRange(&p, 0, m, 0, n, ws)
		}, kn)
		return
	}
	// Fewer products than workers: also split each product into tiles.
	g := kn.split(m, n, (workers+len(offsets)-1)/len(offsets))
	per := g.count()
	parallelFor(len(offsets)*per, workers, func(t int, ws *workspace) {
		p := at(t / per)
		i0, i1, j0, j1 := g.tile(t % per)
		kn.gemmRange(&p, i0, i1, j0, j1, ws)
	}, kn)
}
