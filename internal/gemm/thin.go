package gemm

import (
	"slices"

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

// thinMaxMT is the bound for products with B transposed (a weight stored (n, k)), which a batch
// of sequences generating together makes with m = the batch: up to it, a block of weight rows
// read once serves every row of op(A), four at a time (dotRows4), which costs less than
// packing the transposed weights for the blocked kernel: on a Zen 4 core, 2-4× less time at m
// = 4 to 32 for GPT-2 small's products (BenchmarkThinDecode, thin against blocked).
var thinMaxMT = 32

// isThin reports whether a product takes the thin path.
func isThin(transB bool, m, n, k int) bool {
	return m > 0 && n > 0 && k > 0 && (m < thinMaxM || transB && m <= thinMaxMT)
}

// thinColumnBlock is how many columns of C a NN-form step updates at once: the m rows of that
// block stay in L1 while k rows of B stream past.
const thinColumnBlock = 512

// thinDotBlock is how many rows of B a B-transposed step takes at once (at k = 3072, 768 KiB).
const thinDotBlock = 64

// thin runs a product for which isThin holds on up to workers goroutines.
func thin(p *problem, workers int) {
	// op(A)'s rows, row i at a[i*lda:] (copied out only when A is stored transposed).
	a, lda := p.a, p.lda
	if p.transA {
		a, lda = make([]float32, p.m*p.k), p.k
		for i := range p.m {
			for q := range p.k {
				a[i*p.k+q] = p.a[q*p.lda+i]
			}
		}
	}
	// Decoding makes hundreds of these products a token, each too small to pay for garbage: the
	// rows sit on the stack, and only a product shared between workers takes heap copies (of the
	// problem and the rows, which its closure holds).
	var rowsBuf [32][]float32 // thinMaxMT's default
	rows := rowsBuf[:0]
	if p.m > len(rowsBuf) {
		rows = make([][]float32, 0, p.m)
	}
	for i := range p.m {
		rows = append(rows, a[i*lda:i*lda+p.k])
	}
	if !splitThin(workers, 2*float64(p.m)*float64(p.n)*float64(p.k), 4*float64(p.n)*float64(p.k)) {
		thinColumns(p, a, lda, rows, 0, p.n)
		return
	}
	thinShared(*p, a, lda, slices.Clone(rows), workers)
}

// thinShared computes a thin product's columns on up to workers goroutines, from copies the
// closure may keep.
func thinShared(p problem, a []float32, lda int, rows [][]float32, workers int) {
	thinFor(p.n, workers, 4*float64(p.n)*float64(p.k), func(lo, hi int) { thinColumns(&p, a, lda, rows, lo, hi) })
}

// thinColumns computes columns [lo, hi) of C.
func thinColumns(p *problem, a []float32, lda int, rows [][]float32, lo, hi int) {
	if p.transB {
		// Rows of B (weight rows) against each row of op(A), thinDotBlock at a time: the block
		// streams from memory once and stays in L2 for the other rows of A.
		n16 := p.k &^ 15
		direct := n16 == p.k && !p.accumulate
		var tmp [4 * thinDotBlock]float32
		// finish adds the tail of row i's products (past n16) and then C, as dot and the
		// accumulating form do, to the partial sums dst of columns [j0, j0+len(dst)).
		finish := func(i, j0 int, dst []float32) {
			ai := rows[i]
			ci := p.c[i*p.ldc+j0 : i*p.ldc+j0+len(dst)]
			for jj, s := range dst {
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
		for j0 := lo; j0 < hi; j0 += thinDotBlock {
			j1 := min(j0+thinDotBlock, hi)
			w := j1 - j0
			i0 := 0
			if n16 > 0 { // four rows of op(A) at a time: each weight row read once for the four
				for ; i0+4 <= p.m; i0 += 4 {
					if direct {
						dotRows4(p.k, a[i0*lda:], lda, p.b[j0*p.ldb:], p.ldb, p.c[i0*p.ldc+j0:], p.ldc, w)
						continue
					}
					// with a bias to accumulate onto (Affine) or a tail: the same four-row sums
					// (each row's bits as dotRows gives them), finished row by row
					dotRows4(n16, a[i0*lda:], lda, p.b[j0*p.ldb:], p.ldb, tmp[:], thinDotBlock, w)
					for r := range 4 {
						finish(i0+r, j0, tmp[r*thinDotBlock:r*thinDotBlock+w])
					}
				}
			}
			for i := i0; i < p.m; i++ {
				ci := p.c[i*p.ldc+j0 : i*p.ldc+j1]
				dst := ci
				if !direct {
					dst = tmp[:w]
				}
				if n16 > 0 {
					dotRows(rows[i][:n16], p.b[j0*p.ldb:], p.ldb, dst)
				} else {
					clear(dst)
				}
				if !direct {
					finish(i, j0, dst)
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
