package gemm

import (
	"math"
	"sync"
)

// Thin int8 products with int8 activations (on CPUs with AVX512-VNNI): rather than widening
// every weight to float32, each row of A is quantised like a weight row (a scale s_a = max|a|/127
// and round(a/s_a) in [-127, 127]) and the dot products are taken in integers on VPDPBUSD, which
// multiplies unsigned by signed bytes: the activations are stored offset by 128 (1 to 255), and
// 128·Σ_q w_jq (Compact.sum) is taken off the sum. The integer sum is exact, so it depends on no
// lane order, m or worker count; the output is then float32(Σ)·s_a·s_j, rounded in that order.
// The activations' rounding adds an error of at most s_a/2 per element, as the weights' does.
//
// A row of A holding a NaN or an infinity cannot be quantised: the product is then computed
// by the widening kernels (compactThin), so that the non-finite value reaches the output.

// int8Step is the multiple of k the VNNI kernels take (one ZMM of bytes); the rest is summed in Go.
const int8Step = 64

// int8MaxK bounds k for the VNNI products: their int32 lanes hold sums of up to k products of at
// most 255·127, which must not overflow (2³¹ / (255·127) = 66311). Longer rows are widened.
const int8MaxK = 65536

// quantiseActivations writes row's int8 quantisation, offset by 128, to dst and returns its
// scale; false if row holds a non-finite value. A row of zeros has scale 0.
func quantiseActivations(row []float32, dst []uint8) (float32, bool) {
	top, ok := absMax(row)
	if !ok {
		return 0, false
	}
	if top == 0 {
		for q := range row {
			dst[q] = 128
		}
		return 0, true
	}
	s := float32(float64(top) / 127)
	if s == 0 {
		s = math.SmallestNonzeroFloat32
	}
	quantiseRow(row, float32(1/float64(s)), dst)
	return s, true
}

// absMaxGo is absMax in Go: the largest |row[q]|, and false if a value is NaN or infinite.
func absMaxGo(row []float32) (float32, bool) {
	var top float32
	for _, v := range row {
		top = max(top, v, -v)
	}
	return top, top == top && top <= math.MaxFloat32
}

// quantiseRowGo is quantiseRow in Go: what the vector kernel computes, value for value.
func quantiseRowGo(row []float32, inv float32, dst []uint8) {
	for q, v := range row {
		r := math.RoundToEven(float64(v * inv))
		dst[q] = uint8(int(max(-127, min(127, r))) + 128)
	}
}

// int8Rows is one product's quantised rows of A (offset by 128) and their scales.
type int8Rows struct {
	qa []uint8
	sa [compactThinMaxM]float32
}

// int8Scratch recycles int8Rows: a decoding step makes some 200 products.
var int8Scratch = sync.Pool{New: func() any { return new(int8Rows) }}

// compactInt8Thin computes C = A·wᵀ for an Int8 w and m ≤ compactThinMaxM with quantised
// activations; false (and nothing written) if a row of A is not finite.
func compactInt8Thin(m int, a []float32, lda int, w *Compact, c []float32, ldc, workers int) bool {
	k := w.k
	rows := int8Scratch.Get().(*int8Rows)
	defer int8Scratch.Put(rows)
	if len(rows.qa) < m*k {
		rows.qa = make([]uint8, m*k)
	}
	qa := rows.qa[:m*k]
	for i := range m {
		s, ok := quantiseActivations(a[i*lda:i*lda+k], qa[i*k:(i+1)*k])
		if !ok {
			return false
		}
		rows.sa[i] = s
	}
	sa := rows.sa[:m]
	if !splitThin(workers, 2*float64(m)*float64(w.n)*float64(k), float64(w.Bytes())) {
		int8Columns(m, qa, sa, w, c, ldc, 0, w.n) // no closure to allocate
		return true
	}
	thinFor(w.n, workers, float64(w.Bytes()), func(lo, hi int) { int8Columns(m, qa, sa, w, c, ldc, lo, hi) })
	return true
}

// int8Columns computes columns [lo, hi) of C from the quantised rows qa (m×k, offset by 128)
// and their scales sa, thinDotBlock weight rows at a time.
func int8Columns(m int, qa []uint8, sa []float32, w *Compact, c []float32, ldc, lo, hi int) {
	k := w.k
	kv := k - k%int8Step
	var sums [compactThinMaxM * thinDotBlock]int32
	for j0 := lo; j0 < hi; j0 += thinDotBlock {
		nb := min(thinDotBlock, hi-j0)
		ws := w.q[j0*k:]
		if kv > 0 {
			i := 0
			for ; i+4 <= m; i += 4 {
				dotsU8I8(4, kv, qa[i*k:], k, ws, k, nb, sums[i*nb:], nb)
			}
			for ; i < m; i++ {
				dotsU8I8(1, kv, qa[i*k:], k, ws, k, nb, sums[i*nb:], nb)
			}
		}
		for i := range m {
			ai := qa[i*k : (i+1)*k]
			ci := c[i*ldc+j0 : i*ldc+j0+nb]
			done := 0
			if kv == k { // no tail: the whole row's sums are in, finished 16 columns at a time
				done = int8Epilogue(k, sums[i*nb:(i+1)*nb], w.sum[j0:j0+nb], w.scale[j0:j0+nb], sa[i], ci)
			}
			for jj := done; jj < len(ci); jj++ {
				j := j0 + jj
				var t int64
				if kv > 0 {
					t = int64(sums[i*nb+jj])
				}
				for q, v := range w.q[j*k+kv : (j+1)*k] {
					t += int64(ai[kv+q]) * int64(v)
				}
				t -= 128 * int64(w.sum[j])
				ci[jj] = float32(t) * sa[i] * w.scale[j]
			}
		}
	}
}
