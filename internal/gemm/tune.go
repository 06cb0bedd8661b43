package gemm

import (
	"sync"
	"time"
)

// Kernel selection by timing. Where the CPU can run several vector kernels
// of the same width (on AVX-512, 8×32 and 12×32), which one is faster
// depends on the core in ways CPUID does not say: how many 512-bit FMAs it
// issues per cycle, how many loads, how fast L2 refills L1. The choice at
// init (kernel_amd64.go) is reasoned from published tables; the first
// product of the process then times the candidates on a small product and
// keeps the fastest, so a wrong guess on a CPU nobody measured costs 2 ms
// once rather than speed for good. The candidates compute every element
// the same way (TestVectorKernelsAgreeBitwise), so the choice changes speed
// only, never results.

var (
	tuneOnce sync.Once
	// tuneCandidates lists the kernels to time, the one chosen at init
	// first; empty (nothing to time) where there is no choice or
	// GOFORMER_SGEMM_KERNEL named a kernel.
	tuneCandidates []*microKernel
)

// tunedKernel returns the active kernel, timing the candidates first if
// that has not been done yet.
func tunedKernel() *microKernel {
	tuneOnce.Do(func() {
		if len(tuneCandidates) > 1 {
			activeKernel = fastest(tuneCandidates)
		}
	})
	return activeKernel
}

// tuneMargin is how much faster (best of the rounds) another candidate must
// be to replace the first: noise on a busy machine should not flip a choice
// between two kernels that run alike.
const tuneMargin = 0.03

// fastest times each kernel on one 192×256×256 product (25 MFLOP, a quarter
// of a millisecond; 192 rows are whole panels for 8 and 12 rows) on the
// calling goroutine, in interleaved rounds, and returns the one with the
// best time, preferring kns[0] unless another beats it by tuneMargin.
func fastest(kns []*microKernel) *microKernel {
	const m, n, k, rounds = 192, 256, 256, 4
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%5) - 2
	}
	p := problem{m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n}
	best := make([]time.Duration, len(kns))
	for r := range rounds {
		for i, kn := range kns {
			t := time.Now()
			kn.sgemm(&p, 1)
			if d := time.Since(t); r == 0 || d < best[i] {
				best[i] = d
			}
		}
	}
	pick := 0
	for i := range kns {
		if float64(best[i]) < float64(best[pick])*(1-tuneMargin) {
			pick = i
		}
	}
	return kns[pick]
}
