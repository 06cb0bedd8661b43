//go:build !amd64 || purego

package gemm

// compactLevelName names the compact kernels in use, for benchmarks and logs.
func compactLevelName() string { return "go" }

// compactStep is the multiple of k the compact dot kernels take; the rest is the tail.
func compactStep() int { return 16 }

// dotsBF16 sets c[r*ldc+j] to the dot product of a[r*lda:r*lda+k] with the bfloat16 row at
// w[j*ldw:], for r < rows (1 or 4) and j < n; k is a positive multiple of compactStep.
func dotsBF16(rows, k int, a []float32, lda int, w []uint16, ldw, n int, c []float32, ldc int) {
	dotsBF16Generic(rows, k, a, lda, w, ldw, n, c, ldc)
}

// dotsInt8 is dotsBF16 for int8 rows (unscaled).
func dotsInt8(rows, k int, a []float32, lda int, w []int8, ldw, n int, c []float32, ldc int) {
	dotsInt8Generic(rows, k, a, lda, w, ldw, n, c, ldc)
}

// int8Activations is false: only the VNNI kernels quantise activations.
func int8Activations() bool { return false }

// dotsU8I8 is never called where int8Activations is false.
func dotsU8I8(rows, k int, a []uint8, lda int, w []int8, ldw, n int, c []int32, ldc int) {
	panic("gemm: no VNNI kernels in this build")
}

// bf16Activations is false: only the VDPBF16PS kernels round activations.
func bf16Activations() bool { return false }

// dotsBF16Pairs is never called where bf16Activations is false.
func dotsBF16Pairs(rows, k int, a []uint32, lda int, w []uint16, ldw, n int, c []float32, ldc int) {
	panic("gemm: no VDPBF16PS kernels in this build")
}

// UseDotKernels reports false: this build has no dot-product decode kernels.
func UseDotKernels(on bool) bool { return false }

// quantiseRow is quantiseRowGo where there is no vector kernel.
func quantiseRow(row []float32, inv float32, dst []uint8) { quantiseRowGo(row, inv, dst) }

// absMax is absMaxGo where there is no vector kernel.
func absMax(row []float32) (float32, bool) { return absMaxGo(row) }

// int8Epilogue has no vector kernel here: it sets nothing.
func int8Epilogue(k int, sums, wsum []int32, scale []float32, sa float32, c []float32) int {
	return 0
}
