package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchCase is one product shape; batch > 1 runs SgemmBatched.
type benchCase struct {
	name           string
	transA, transB bool
	batch, m, n, k int
}

// The small GPT's products (batch 12 × block 64 = 768 rows, width 128, MLP
// 512, QKV 384, vocab 65, 4 heads × 32): forward (NN), input gradients (NT,
// dY·Wᵀ) and weight gradients (TN, Xᵀ·dY), and the attention bmm's.
var gptCases = []benchCase{
	{"NN_768x128x384", false, false, 1, 768, 384, 128},
	{"NN_768x128x512", false, false, 1, 768, 512, 128},
	{"NN_768x512x128", false, false, 1, 768, 128, 512},
	{"NN_768x128x65", false, false, 1, 768, 65, 128},
	{"NT_768x384x128", false, true, 1, 768, 128, 384},
	{"NT_768x512x128", false, true, 1, 768, 128, 512},
	{"NT_768x65x128", false, true, 1, 768, 128, 65},
	{"TN_384x768x128", true, false, 1, 384, 128, 768},
	{"TN_128x768x512", true, false, 1, 128, 512, 768},
	{"TN_65x768x128", true, false, 1, 65, 128, 768},
	{"bmm48_64x32x64", false, false, 48, 64, 64, 32},
	{"bmm48_64x64x32", false, false, 48, 64, 32, 64},
	{"bmm48_NT_64x32x64", false, true, 48, 64, 64, 32},
}

func runBench(b *testing.B, bc benchCase, workers int) {
	defer SetWorkers(Workers())
	SetWorkers(workers)
	rng := rand.New(rand.NewPCG(1, 1))
	m, n, k := bc.m, bc.n, bc.k
	lda, ldb := k, n
	if bc.transA {
		lda = m
	}
	if bc.transB {
		ldb = k
	}
	a := randSlice(rng, bc.batch*m*k)
	bb := randSlice(rng, bc.batch*k*n)
	c := make([]float32, bc.batch*m*n)
	offs := make([]BatchOffsets, bc.batch)
	for i := range offs {
		offs[i] = BatchOffsets{A: i * m * k, B: i * k * n, C: i * m * n}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if bc.batch == 1 {
			Sgemm(bc.transA, bc.transB, m, n, k, a, lda, bb, ldb, c, n, false)
		} else {
			SgemmBatched(bc.transA, bc.transB, m, n, k, a, lda, bb, ldb, c, n, offs, false)
		}
	}
	flops := 2 * float64(bc.batch) * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSquare(b *testing.B) {
	for _, size := range []int{64, 128, 256, 512, 1024, 2048} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/w=%d", size, w), func(b *testing.B) {
				runBench(b, benchCase{batch: 1, m: size, n: size, k: size}, w)
			})
		}
	}
}

func BenchmarkGPT(b *testing.B) {
	for _, bc := range gptCases {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/w=%d", bc.name, w), func(b *testing.B) { runBench(b, bc, w) })
		}
	}
}

// BenchmarkGenericKernel measures the pure-Go fallback at one size.
func BenchmarkGenericKernel(b *testing.B) {
	saved := activeKernel
	defer func() { activeKernel = saved }()
	activeKernel = genericKernel
	runBench(b, benchCase{batch: 1, m: 512, n: 512, k: 512}, 1)
}

// BenchmarkAVX2Kernel measures the AVX2 kernel where the CPU has it.
func BenchmarkKernels(b *testing.B) {
	saved := activeKernel
	defer func() { activeKernel = saved }()
	for _, kn := range supportedKernels() {
		activeKernel = kn
		b.Run(kn.name, func(b *testing.B) { runBench(b, benchCase{batch: 1, m: 512, n: 512, k: 512}, 1) })
	}
}
