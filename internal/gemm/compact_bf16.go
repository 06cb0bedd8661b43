package gemm

import (
	"sync"
)

// Thin bf16 products with bf16 activations (on CPUs with AVX512-BF16): each row of A is rounded
// to bf16 (toBF16DAZ, as SgemmBF16 does) and the dot products with the bf16 weight rows are taken
// on VDPBF16PS, two products per float32 lane per instruction, with no widening of the weights.
// The weights of row j, k consecutive bf16 values, are already in the pair layout. Each output is
// summed in a fixed order (see gen_bf16_amd64.go's dots: two chains of 64-byte chunks, then the
// lanes), then the tail of k past the last multiple of 32 in order, so it depends neither on m
// nor on the worker count. The activations' rounding adds a relative error of at most 2⁻⁸ per
// element, as the weights' does.

// bf16Step is the multiple of k the VDPBF16PS dot kernels take (one ZMM of bf16 values).
const bf16Step = 32

// pairScratch holds the bf16-paired rows of A of one product.
var pairScratch = sync.Pool{New: func() any { return new([]uint32) }}

// compactBF16Thin computes C = A·wᵀ for a BF16 w and m ≤ compactThinMaxM with bf16 activations.
func compactBF16Thin(m int, a []float32, lda int, w *Compact, c []float32, ldc, workers int) {
	k := w.k
	kp := (k + 1) / 2
	buf := pairScratch.Get().(*[]uint32)
	defer pairScratch.Put(buf)
	if len(*buf) < m*kp {
		*buf = make([]uint32, m*kp)
	}
	pa := (*buf)[:m*kp]
	for i := range m {
		cvtPairs(pa[i*kp:(i+1)*kp], a[i*lda:i*lda+k])
	}
	if !splitThin(workers, 2*float64(m)*float64(w.n)*float64(k), float64(w.Bytes())) {
		bf16DotColumns(m, pa, kp, w, c, ldc, 0, w.n) // no closure to allocate
		return
	}
	thinFor(w.n, workers, float64(w.Bytes()), func(lo, hi int) { bf16DotColumns(m, pa, kp, w, c, ldc, lo, hi) })
}

// bf16DotColumns computes columns [lo, hi) of C from the paired rows pa (row i at pa[i*kp:]).
func bf16DotColumns(m int, pa []uint32, kp int, w *Compact, c []float32, ldc, lo, hi int) {
	k := w.k
	kv := k - k%bf16Step
	for j0 := lo; j0 < hi; j0 += thinDotBlock {
		nb := min(thinDotBlock, hi-j0)
		if kv > 0 {
			ws := w.half[j0*k:]
			i := 0
			for ; i+4 <= m; i += 4 {
				dotsBF16Pairs(4, kv, pa[i*kp:], kp, ws, k, nb, c[i*ldc+j0:], ldc)
			}
			for ; i < m; i++ {
				dotsBF16Pairs(1, kv, pa[i*kp:], kp, ws, k, nb, c[i*ldc+j0:], ldc)
			}
		}
		if kv == k {
			continue
		}
		for i := range m {
			ci := c[i*ldc+j0 : i*ldc+j0+nb]
			for jj := range ci {
				j := j0 + jj
				var s float32
				if kv > 0 {
					s = ci[jj]
				}
				for q := kv; q < k; q++ {
					x := pa[i*kp+q/2] >> (16 * (q % 2))
					s += float32(widenDAZ(uint16(x)) * fromBF16(w.half[j*k+q]))
				}
				ci[jj] = s
			}
		}
	}
}
