//go:build amd64 && !purego

package gemm

import "github.com/goformer/goformer/internal/cpufeat"

// The compact kernels (compact_avx512_amd64.s, compact_avx2_amd64.s): the dot products of one
// row of A (…x1) or four (…x4, row r at a+r*lda, its outputs at c+r*ldc) with n weight rows
// (row j at w+j*ldw elements), over k elements, k a positive multiple of the kernel's step (32
// for AVX-512, 16 for AVX2). The bfloat16 ones widen with VPMOVZXWD and a 16-bit shift, the
// int8 ones with VPMOVSXBD and VCVTDQ2PS; the row's scale is applied by the caller.

//go:noescape
func dotsBF16AVX512x1(k int, a *float32, w *uint16, ldw, n int, c *float32)

//go:noescape
func dotsBF16AVX512x4(k int, a *float32, lda int, w *uint16, ldw, n int, c *float32, ldc int)

//go:noescape
func dotsInt8AVX512x1(k int, a *float32, w *int8, ldw, n int, c *float32)

//go:noescape
func dotsInt8AVX512x4(k int, a *float32, lda int, w *int8, ldw, n int, c *float32, ldc int)

//go:noescape
func dotsBF16AVX2x1(k int, a *float32, w *uint16, ldw, n int, c *float32)

//go:noescape
func dotsBF16AVX2x4(k int, a *float32, lda int, w *uint16, ldw, n int, c *float32, ldc int)

//go:noescape
func dotsInt8AVX2x1(k int, a *float32, w *int8, ldw, n int, c *float32)

//go:noescape
func dotsInt8AVX2x4(k int, a *float32, lda int, w *int8, ldw, n int, c *float32, ldc int)

// Instruction-set levels of the compact kernels, in increasing order.
const (
	compactGo = iota
	compactAVX2
	compactAVX512
)

// compactLevel is the kernel set in use, chosen once from the CPU; tests lower it to check every
// path on one machine.
var compactLevel = func() int {
	switch {
	case cpufeat.AVX512F:
		return compactAVX512
	case cpufeat.AVX2FMA:
		return compactAVX2
	}
	return compactGo
}()

// compactLevelName names the compact kernels in use, for benchmarks and logs.
func compactLevelName() string {
	return [...]string{"go", "avx2", "avx512"}[compactLevel]
}

// compactStep is the multiple of k the compact dot kernels take; the rest is the tail.
func compactStep() int {
	if compactLevel == compactAVX512 {
		return 32
	}
	return 16
}

// checkDots panics unless the slices hold what a dots kernel touches.
func checkDots(rows, k, lda, ldw, n, ldc, la, lw, lc int) {
	if (rows != 1 && rows != 4) || k <= 0 || k%compactStep() != 0 || n <= 0 ||
		la < (rows-1)*lda+k || lw < (n-1)*ldw+k || lc < (rows-1)*ldc+n {
		panic("gemm: compact dots kernel called outside its contract")
	}
}

// dotsBF16 sets c[r*ldc+j] to the dot product of a[r*lda:r*lda+k] with the bfloat16 row at
// w[j*ldw:], for r < rows (1 or 4) and j < n; k is a positive multiple of compactStep.
func dotsBF16(rows, k int, a []float32, lda int, w []uint16, ldw, n int, c []float32, ldc int) {
	if compactLevel == compactGo {
		dotsBF16Generic(rows, k, a, lda, w, ldw, n, c, ldc)
		return
	}
	checkDots(rows, k, lda, ldw, n, ldc, len(a), len(w), len(c))
	switch {
	case compactLevel == compactAVX512 && rows == 4:
		dotsBF16AVX512x4(k, &a[0], lda, &w[0], ldw, n, &c[0], ldc)
	case compactLevel == compactAVX512:
		dotsBF16AVX512x1(k, &a[0], &w[0], ldw, n, &c[0])
	case rows == 4:
		dotsBF16AVX2x4(k, &a[0], lda, &w[0], ldw, n, &c[0], ldc)
	default:
		dotsBF16AVX2x1(k, &a[0], &w[0], ldw, n, &c[0])
	}
}

// dotsInt8 is dotsBF16 for int8 rows (unscaled).
func dotsInt8(rows, k int, a []float32, lda int, w []int8, ldw, n int, c []float32, ldc int) {
	if compactLevel == compactGo {
		dotsInt8Generic(rows, k, a, lda, w, ldw, n, c, ldc)
		return
	}
	checkDots(rows, k, lda, ldw, n, ldc, len(a), len(w), len(c))
	switch {
	case compactLevel == compactAVX512 && rows == 4:
		dotsInt8AVX512x4(k, &a[0], lda, &w[0], ldw, n, &c[0], ldc)
	case compactLevel == compactAVX512:
		dotsInt8AVX512x1(k, &a[0], &w[0], ldw, n, &c[0])
	case rows == 4:
		dotsInt8AVX2x4(k, &a[0], lda, &w[0], ldw, n, &c[0], ldc)
	default:
		dotsInt8AVX2x1(k, &a[0], &w[0], ldw, n, &c[0])
	}
}

//go:noescape
func dotsInt8VNNIx4(k int, a *uint8, lda int, w *int8, ldw, n int, c *int32, ldc int)

//go:noescape
func dotsInt8VNNIx1(k int, a *uint8, w *int8, ldw, n int, c *int32)

//go:noescape
func quantiseRowAVX512(n int, src *float32, inv float32, dst *uint8)

//go:noescape
func absMaxAVX512(n int, src *float32, out *[32]float32)

//go:noescape
func int8EpilogueAVX512(n int, sums, wsum *int32, scale *float32, sa float32, c *float32)

// int8Epilogue sets c[j] = float32(sums[j] − 128·wsum[j])·sa·scale[j] for the first multiple of
// 16 of len(c) columns on AVX-512 and returns how many it set (0 without the kernel). The
// difference is taken in int32, exactly: Σ (a+128)·w − 128·Σ w = Σ a·w, at most 127²·k in
// magnitude, fits for k ≤ int8MaxK, whatever the wrapping of the terms on the way.
func int8Epilogue(k int, sums, wsum []int32, scale []float32, sa float32, c []float32) int {
	n16 := len(c) &^ 15
	if n16 == 0 || k > int8MaxK || !int8Activations() {
		return 0
	}
	_, _, _ = sums[n16-1], wsum[n16-1], scale[n16-1]
	int8EpilogueAVX512(n16, &sums[0], &wsum[0], &scale[0], sa, &c[0])
	return n16
}

// absMax returns the largest |row[q]|, and false if some row[q] is NaN or infinite.
func absMax(row []float32) (float32, bool) {
	n16 := len(row) &^ 15
	if n16 == 0 || !int8Activations() {
		return absMaxGo(row)
	}
	var lanes [32]float32
	absMaxAVX512(n16, &row[0], &lanes)
	top, ok := absMaxGo(row[n16:])
	for l := range 16 {
		top = max(top, lanes[l])
		if lanes[16+l] != 0 { // NaN: a non-finite value (finite ones add ±0)
			ok = false
		}
	}
	return top, ok
}

// quantiseRow sets dst[q] to int8(round(row[q]·inv)) + 128 (ties to even) for every q, in
// AVX-512 for the multiple of 16 it can and in Go for the rest, which int8Activations' CPUs run
// 16 at a time (the Go loop took 1 ms of a 6.5 ms int8 SmolLM2 decoding step).
func quantiseRow(row []float32, inv float32, dst []uint8) {
	n16 := len(row) &^ 15
	if n16 > 0 && int8Activations() {
		_ = dst[n16-1]
		quantiseRowAVX512(n16, &row[0], inv, &dst[0])
	} else {
		n16 = 0
	}
	quantiseRowGo(row[n16:], inv, dst[n16:])
}

// compactVNNI: int8 weights multiply int8-quantised activations on VPDPBUSD (AVX512-VNNI) in
// thin products, instead of being widened to float32; tests switch it off to check the widening
// kernels too.
var compactVNNI = cpufeat.AVX512VNNI

// int8Activations reports whether thin int8 products quantise their activations (see
// compact_int8.go).
func int8Activations() bool { return compactVNNI && compactLevel == compactAVX512 }

// dotsU8I8 sets c[r*ldc+j] to Σ_{q<k} a[r*lda+q]·w[j*ldw+q] (unsigned × signed bytes, in int32)
// for r < rows (1 or 4) and j < n; k is a positive multiple of 64.
func dotsU8I8(rows, k int, a []uint8, lda int, w []int8, ldw, n int, c []int32, ldc int) {
	if (rows != 1 && rows != 4) || k <= 0 || k%64 != 0 || n <= 0 ||
		len(a) < (rows-1)*lda+k || len(w) < (n-1)*ldw+k || len(c) < (rows-1)*ldc+n {
		panic("gemm: VNNI dots kernel called outside its contract")
	}
	if rows == 4 {
		dotsInt8VNNIx4(k, &a[0], lda, &w[0], ldw, n, &c[0], ldc)
		return
	}
	dotsInt8VNNIx1(k, &a[0], &w[0], ldw, n, &c[0])
}

//go:noescape
func dotsBF16DPx4(k int, a *uint32, lda int, w *uint16, ldw, n int, c *float32, ldc int)

//go:noescape
func dotsBF16DPx1(k int, a *uint32, lda int, w *uint16, ldw, n int, c *float32, ldc int)

// compactBF16Dot: bf16 weights multiply bf16-rounded activations on VDPBF16PS (AVX512-BF16) in
// thin products, instead of being widened to float32; tests switch it off.
var compactBF16Dot = cpufeat.AVX512BF16

// bf16Activations reports whether thin bf16 products round their activations to bf16 (see
// compact_bf16.go).
func bf16Activations() bool { return compactBF16Dot && compactLevel == compactAVX512 }

// dotsBF16Pairs sets c[r*ldc+j] to the dot product of the bf16 pairs at a[r*lda:] with the
// bf16 weight row at w[j*ldw:], over k values (a positive multiple of 32), for r < rows (1 or
// 4) and j < n.
func dotsBF16Pairs(rows, k int, a []uint32, lda int, w []uint16, ldw, n int, c []float32, ldc int) {
	if (rows != 1 && rows != 4) || k <= 0 || k%32 != 0 || n <= 0 ||
		len(a) < (rows-1)*lda+k/2 || len(w) < (n-1)*ldw+k || len(c) < (rows-1)*ldc+n {
		panic("gemm: VDPBF16PS dots kernel called outside its contract")
	}
	if rows == 4 {
		dotsBF16DPx4(k, &a[0], lda, &w[0], ldw, n, &c[0], ldc)
		return
	}
	dotsBF16DPx1(k, &a[0], lda, &w[0], ldw, n, &c[0], ldc)
}

// UseDotKernels turns the int8 (VPDPBUSD) and bf16 (VDPBF16PS) decode kernels on or off, for
// benchmarks that compare them with the widening ones in one process, and reports whether this
// CPU has them. It must not be called while products run.
func UseDotKernels(on bool) bool {
	compactVNNI = on && cpufeat.AVX512VNNI
	compactBF16Dot = on && cpufeat.AVX512BF16
	return cpufeat.AVX512VNNI || cpufeat.AVX512BF16
}
