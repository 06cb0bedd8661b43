//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernelsBF16 times the micro-kernels alone on L1-resident panels, the same flops
// per call (an 8×32 or 12×32 tile over k = 512): the float32 AVX-512 kernels against the
// VDPBF16PS ones. Alternate them with -count.
//
//	go test ./internal/gemm -run '^$' -bench MicroKernelsBF16 -count 3
func BenchmarkMicroKernelsBF16(b *testing.B) {
	if !BF16Native() {
		b.Skip("no AVX512-BF16")
	}
	const k = 512
	c := make([]float32, 12*32)
	for _, mr := range []int{8, 12} {
		af, bf := make([]float32, mr*k), make([]float32, 32*k)
		ap, bp := make([]uint32, mr*k/2), make([]uint32, 32*k/2)
		for i := range af {
			af[i] = 1
		}
		for i := range bf {
			bf[i] = 1
		}
		kf, kb := avx512Kernel.fn, bf16AVX512x8.fn
		if mr == 12 {
			kf, kb = avx512x12Kernel.fn, bf16AVX512x12.fn
		}
		flops := float64(2 * mr * 32 * k)
		b.Run(fmt.Sprintf("float32-%dx32", mr), func(b *testing.B) {
			for b.Loop() {
				kf(k, af, bf, c, 32, false)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("bf16-%dx32", mr), func(b *testing.B) {
			for b.Loop() {
				kb(k/2, ap, bp, c, 32, false)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
