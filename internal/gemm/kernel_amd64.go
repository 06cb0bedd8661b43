//go:build amd64 && !purego

package gemm

import (
	"os"

	"github.com/goformer/goformer/internal/cpufeat"
)

// The micro-kernels (kernel_avx512_amd64.s, kernel_avx2_amd64.s) read the A
// panel with strides (see microKernel.fnS): element (i, p) at a[i*rsa+p*csa].
// kernel12x32AVX512S is a 12×32 tile in 24 ZMM accumulators, kernel8x32AVX512S
// an 8×32 tile in 16; kernel12x16AVX512S and kernel8x16AVX512S compute only
// the first 16 columns (B still read with the 32-wide panel stride), the
// narrow edge kernels; kernel6x16AVX2S is a 6×16 tile in 12 YMM accumulators.
//
//go:noescape
func kernel12x32AVX512S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel12x16AVX512S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)

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

func kernelAVX512x12(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelAVX512x12S(k, a, 1, 12, b, c, ldc, accumulate)
}

func kernelAVX512x12Narrow(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelAVX512x12NarrowS(k, a, 1, 12, b, c, ldc, accumulate)
}

func kernelAVX512x12S(k int, a []float32, rsa, csa int, b, c []float32, ldc int, accumulate bool) {
	_ = a[11*rsa+(k-1)*csa]
	_ = b[32*k-1]
	_ = c[11*ldc+31]
	kernel12x32AVX512S(k, &a[0], rsa, csa, &b[0], &c[0], ldc, accumulate)
}

func kernelAVX512x12NarrowS(k int, a []float32, rsa, csa int, b, c []float32, ldc int, accumulate bool) {
	_ = a[11*rsa+(k-1)*csa]
	_ = b[32*(k-1)+15]
	_ = c[11*ldc+15]
	kernel12x16AVX512S(k, &a[0], rsa, csa, &b[0], &c[0], ldc, accumulate)
}

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

// The kernels' cache blocks (kc, mc, nc) are set at init from the caches
// CPUID reports (blocking.go). Both AVX-512 kernels have nr = 32 and so the
// same kc: they sum every element in the same order and give the same bits,
// whichever is chosen.

var avx512Kernel = &microKernel{
	name: "avx512-8x32",
	mr:   8, nr: 32,
	fn:       kernelAVX512,
	nrNarrow: 16, fnNarrow: kernelAVX512Narrow,
	fnS: kernelAVX512S, fnNarrowS: kernelAVX512NarrowS,
}

var avx512x12Kernel = &microKernel{
	name: "avx512-12x32",
	mr:   12, nr: 32,
	fn:       kernelAVX512x12,
	nrNarrow: 16, fnNarrow: kernelAVX512x12Narrow,
	fnS: kernelAVX512x12S, fnNarrowS: kernelAVX512x12NarrowS,
	edge: avx512Kernel,
}

var avx2Kernel = &microKernel{
	name: "avx2-6x16",
	mr:   6, nr: 16,
	fn:  kernelAVX2,
	fnS: kernelAVX2S,
}

// cpu holds the instruction sets the kernels may use (CPU and OS support both checked).
var cpu = struct{ avx2FMA, avx512 bool }{cpufeat.AVX2FMA, cpufeat.AVX512F}

func init() {
	for _, kn := range []*microKernel{avx512Kernel, avx512x12Kernel, avx2Kernel} {
		withBlocks(kn, machineCaches)
	}
	override := os.Getenv(kernelEnv)
	activeKernel = chooseKernel(override)
	if activeKernel.name != override {
		// Which AVX-512 kernel is faster is timed at the first product (tune.go).
		switch activeKernel {
		case avx512Kernel:
			tuneCandidates = []*microKernel{avx512Kernel, avx512x12Kernel}
		case avx512x12Kernel:
			tuneCandidates = []*microKernel{avx512x12Kernel, avx512Kernel}
		}
	}
}

// kernelEnv names an environment variable that overrides the choice of
// kernel by name (e.g. avx512-8x32), for measuring the candidates on a new
// CPU; a name this CPU cannot run is ignored.
const kernelEnv = "GOFORMER_SGEMM_KERNEL"

func chooseKernel(override string) *microKernel {
	for _, kn := range supportedKernels() {
		if kn.name == override {
			return kn
		}
	}
	switch {
	case cpu.avx512 && cpufeat.Vendor == "GenuineIntel":
		return avx512x12Kernel
	case cpu.avx512:
		return avx512Kernel
	case cpu.avx2FMA:
		return avx2Kernel
	}
	return genericKernel
}

// The AVX-512 kernel chosen at init (the first product then times both, see
// tune.go):
//
//   - Intel: 12×32. Its server cores since Skylake-SP (Gold 6000 and up, Ice
//     Lake-SP, Sapphire, Emerald and Granite Rapids) issue two 512-bit FMAs
//     per cycle, 64 flops; at FMA latency 4 that needs 8 independent chains
//     in flight, and the 24 accumulators of 12×32 (BLIS's and OpenBLAS's
//     Skylake-X SGEMM kernels hold 24 too) leave room for broadcasts that
//     wait on L1, with fewer loads per FMA (0.58 against 0.63). 8×32 reached
//     only about half of such a core's peak. Reasoned, not timed: no Intel
//     machine was at hand.
//   - AMD: 8×32. Zen 4 (family 25) splits a 512-bit FMA over its two 256-bit
//     units, one per cycle, so 16 accumulators are plenty; measured there
//     (CPU time, 1 thread) 12×32 is within 3% on the 768-row GPT products
//     and 512-2048 squares and 8-18% slower where its 12-row panels or
//     12×16 narrow tiles fit badly. Zen 5 (family 26) issues two per cycle
//     and reached 87% of its peak with 8×32.

// supportedKernels lists every kernel this CPU can run, so tests exercise
// all of them, not only the one chosen at init.
func supportedKernels() []*microKernel {
	ks := []*microKernel{genericKernel}
	if cpu.avx2FMA {
		ks = append(ks, avx2Kernel)
	}
	if cpu.avx512 {
		ks = append(ks, avx512Kernel, avx512x12Kernel)
	}
	return ks
}
