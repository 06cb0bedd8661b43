//go:build amd64 && !purego

package gemm

import "github.com/goformer/goformer/internal/cpufeat"

// The micro-kernels (kernel_amd64.s) read the A panel with strides (see
// microKernel.fnS): element (i, p) at a[i*rsa+p*csa]. kernel8x32AVX512S is an
// 8×32 tile in 16 ZMM accumulators; kernel8x16AVX512S computes only its first
// 16 columns (B still read with the 32-wide panel stride), the narrow edge
// kernel; kernel6x16AVX2S is a 6×16 tile in 12 YMM accumulators.
//
//go:noescape
func kernel8x32AVX512S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x16AVX512S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel6x16AVX2S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)

// The wrappers check that the slices hold what the kernel will touch, so an
// indexing bug surfaces as a panic rather than memory corruption.

// The packed-panel forms (microKernel.fn) are the strided kernels with the packed layout's
// strides: rsa = 1, csa = mr.

func kernelAVX512(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelAVX512S(k, a, 1, 8, b, c, ldc, accumulate)
}

func kernelAVX512Narrow(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelAVX512NarrowS(k, a, 1, 8, b, c, ldc, accumulate)
}

func kernelAVX2(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelAVX2S(k, a, 1, 6, b, c, ldc, accumulate)
}

func kernelAVX512S(k int, a []float32, rsa, csa int, b, c []float32, ldc int, accumulate bool) {
	_ = a[7*rsa+(k-1)*csa]
	_ = b[32*k-1]
	_ = c[7*ldc+31]
	kernel8x32AVX512S(k, &a[0], rsa, csa, &b[0], &c[0], ldc, accumulate)
}

func kernelAVX512NarrowS(k int, a []float32, rsa, csa int, b, c []float32, ldc int, accumulate bool) {
	_ = a[7*rsa+(k-1)*csa]
	_ = b[32*(k-1)+15]
	_ = c[7*ldc+15]
	kernel8x16AVX512S(k, &a[0], rsa, csa, &b[0], &c[0], ldc, accumulate)
}

func kernelAVX2S(k int, a []float32, rsa, csa int, b, c []float32, ldc int, accumulate bool) {
	_ = a[5*rsa+(k-1)*csa]
	_ = b[16*k-1]
	_ = c[5*ldc+15]
	kernel6x16AVX2S(k, &a[0], rsa, csa, &b[0], &c[0], ldc, accumulate)
}

var avx512Kernel = &microKernel{
	name: "avx512-8x32",
	mr:   8, nr: 32,
	// B micro-panel 256×32 = 32 KiB (L1 is 48 KiB on Zen 5), A block
	// 256×256 = 256 KiB (L2 is 1 MiB); mc=128 measured ~15% slower at
	// 1024-2048, mc=384 no better than 256.
	kc: 256, mc: 256, nc: 2048,
	fn:       kernelAVX512,
	nrNarrow: 16, fnNarrow: kernelAVX512Narrow,
	fnS: kernelAVX512S, fnNarrowS: kernelAVX512NarrowS,
}

var avx2Kernel = &microKernel{
	name: "avx2-6x16",
	mr:   6, nr: 16,
	kc: 256, mc: 120, nc: 2048,
	fn:  kernelAVX2,
	fnS: kernelAVX2S,
}

// cpu holds the instruction sets the kernels may use (CPU and OS support both checked).
var cpu = struct{ avx2FMA, avx512 bool }{cpufeat.AVX2FMA, cpufeat.AVX512F}

func init() {
	switch {
	case cpu.avx512:
		activeKernel = avx512Kernel
	case cpu.avx2FMA:
		activeKernel = avx2Kernel
	default:
		activeKernel = genericKernel
	}
}

// supportedKernels lists every kernel this CPU can run, so tests exercise
// all of them, not only the one chosen at init.
func supportedKernels() []*microKernel {
	ks := []*microKernel{genericKernel}
	if cpu.avx2FMA {
		ks = append(ks, avx2Kernel)
	}
	if cpu.avx512 {
		ks = append(ks, avx512Kernel)
	}
	return ks
}
