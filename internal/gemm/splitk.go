package gemm

import (
	"sync"

	"github.com/goformer/goformer/internal/parallel"
	"github.com/goformer/goformer/internal/vecmath"
)

// Weight gradients (Aᵀ·B with K the batch's rows) split by K blocks: each worker sums whole K
// blocks, the first into C itself and the others into partial products of their own, which are
// then added to C in order. That is exactly the order in which one worker adds its K blocks, so
// the bits do not change; and each worker reads only its own K rows of A and B, the rows that the
// kernels before it left on its core (see parallel.For), instead of every worker reading every
// row, half of them from the other core's cache. On a 2-vCPU Zen 5 VM, data another core has just
// written reads at about a fifth of the speed of data the core wrote itself (machine.HandOffRead:
// 35–38 against 174–209 GB/s for 400 KB).

// kBlock is the K block of a product of depth k with blocks of at most kc: k cut into as few
// blocks as kc allows (an even number of them if evenCount and there are several), of equal size,
// rounded up to even if kc is even (bf16 takes K in pairs), so that the blocks of a product split
// by K give each worker as much. It depends on k alone, never on the workers.
func kBlock(k, kc int, evenCount bool) int {
	blocks := (k + kc - 1) / kc
	if evenCount && blocks > 1 {
		blocks += blocks % 2
	}
	kb := (k + blocks - 1) / blocks
	if kc%2 == 0 {
		kb = roundUp(kb, 2)
	}
	return kb
}

// splitsK reports whether a product with K blocks of kc is split by K on workers: a weight
// gradient (A transposed) whose K blocks divide among the workers, with partial products that
// take at most splitKMaxBytes (a long K, as a large model's batch of thousands of rows, would
// otherwise write and read back a partial of C for every block).
func splitsK(p *problem, kc, workers int) bool {
	blocks := (p.k + kc - 1) / kc
	return p.transA && workers > 1 && blocks%workers == 0 && 4*(blocks-1)*p.m*p.n <= splitKMaxBytes
}

// splitKMaxBytes bounds splitK's partial products (the default run's largest take 0.8 MB).
const splitKMaxBytes = 8 << 20

// kPartsPool holds splitK's partial products.
var kPartsPool = sync.Pool{New: func() any { return new([]float32) }}

// splitK runs p's K blocks of kc on workers, each block through product (which computes a
// sub-problem of one K block on the calling goroutine), and adds the partials to C in order.
func splitK(p *problem, kc, workers int, product func(sub *problem)) {
	m, n, k := p.m, p.n, p.k
	blocks := (k + kc - 1) / kc
	bp := kPartsPool.Get().(*[]float32)
	if len(*bp) < (blocks-1)*m*n {
		*bp = make([]float32, (blocks-1)*m*n)
	}
	parts := *bp
	parallel.ForChunks(blocks, workers, blocks, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			pc := blk * kc
			sub := *p
			sub.k = min(kc, k-pc)
			if p.transA {
				sub.a = p.a[pc*p.lda:]
			} else {
				sub.a = p.a[pc:]
			}
			if p.transB {
				sub.b = p.b[pc:]
			} else {
				sub.b = p.b[pc*p.ldb:]
			}
			if blk > 0 {
				sub.c, sub.ldc, sub.accumulate = parts[(blk-1)*m*n:blk*m*n], n, false
			}
			product(&sub)
		}
	})
	parallel.For(m, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			crow := p.c[i*p.ldc : i*p.ldc+n]
			for blk := 1; blk < blocks; blk++ {
				part := parts[(blk-1)*m*n:]
				vecmath.Add(crow, crow, part[i*n:(i+1)*n])
			}
		}
	})
	kPartsPool.Put(bp)
}
