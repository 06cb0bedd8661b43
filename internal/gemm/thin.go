package gemm

import (
	"github.com/goformer/goformer/internal/parallel"
	"github.com/goformer/goformer/internal/vecmath"
)

// Thin products: fewer than thinMaxM rows, as a model makes when it generates with a KV cache
// (one new token's activations times each weight matrix). Packing B into panels costs as much
// memory traffic as such a product itself, so these skip packing and read the operands where
// they are: with B transposed (a weight stored (n, k), PyTorch's Linear layout) each output is
// the dot product of two contiguous rows; otherwise rows of B, scaled by A's entries, are added
// into C's rows. Each output is computed by one goroutine in a fixed order, so results do not
// depend on the worker count.

const thinMaxM = 4

// thinColumnBlock is how many columns of C a NN-form step updates at once: the m rows of that
// block stay in L1 while k rows of B stream past.
const thinColumnBlock = 512

// thinDotBlock is how many rows of B a B-transposed step takes at once (at k = 3072, 768 KiB).
const thinDotBlock = 64

// thin runs a product with 0 < p.m < thinMaxM and p.k > 0 on up to workers goroutines.
func thin(p *problem, workers int) {
	// op(A)'s rows as contiguous slices (copied out only when A is stored transposed).
	rows := make([][]float32, p.m)
	for i := range rows {
		if p.transA {
			r := make([]float32, p.k)
			for q := range r {
				r[q] = p.a[q*p.lda+i]
			}
			rows[i] = r
		} else {
			rows[i] = p.a[i*p.lda : i*p.lda+p.k]
		}
	}
	body := func(lo, hi int) { thinColumns(p, rows, lo, hi) }
	if flops := 2 * float64(p.m) * float64(p.n) * float64(p.k); workers <= 1 || flops < parallelMinFlops {
		body(0, p.n)
		return
	}
	parallel.For(p.n, workers, body)
}

// thinColumns computes columns [lo, hi) of C.
func thinColumns(p *problem, rows [][]float32, lo, hi int) {
	if p.transB {
		// Rows of B (weight rows) against each row of op(A), thinDotBlock at a time: the block
		// streams from memory once and stays in L2 for the other rows of A.
		n16 := p.k &^ 15
		direct := n16 == p.k && !p.accumulate
		var tmp [thinDotBlock]float32
		for j0 := lo; j0 < hi; j0 += thinDotBlock {
			j1 := min(j0+thinDotBlock, hi)
			for i, ai := range rows {
				ci := p.c[i*p.ldc+j0 : i*p.ldc+j1]
				dst := ci
				if !direct {
					dst = tmp[:j1-j0]
				}
				if n16 > 0 {
					dotRows(ai[:n16], p.b[j0*p.ldb:], p.ldb, dst)
				} else {
					clear(dst)
				}
				if direct {
					continue
				}
				for jj, s := range dst { // the tail, then C, as dot and the accumulating form do
					bj := p.b[(j0+jj)*p.ldb:]
					for q := n16; q < p.k; q++ {
						s += ai[q] * bj[q]
					}
					if p.accumulate {
						s += ci[jj]
					}
					ci[jj] = s
				}
			}
		}
		return
	}
	for j0 := lo; j0 < hi; j0 += thinColumnBlock {
		j1 := min(j0+thinColumnBlock, hi)
		if !p.accumulate {
			for i := range rows {
				clear(p.c[i*p.ldc+j0 : i*p.ldc+j1])
			}
		}
		for q := range p.k {
			bq := p.b[q*p.ldb+j0 : q*p.ldb+j1]
			for i, ai := range rows {
				vecmath.AddScaled(p.c[i*p.ldc+j0:i*p.ldc+j1], ai[q], bq)
			}
		}
	}
}
