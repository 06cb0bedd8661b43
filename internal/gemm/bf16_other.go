//go:build !amd64 || purego

package gemm

// bf16Kernels lists the bf16 kernels this build can run: the pure-Go reference only.
func bf16Kernels() []*bf16Kernel { return []*bf16Kernel{bf16Go} }

// bf16Active is nil: without AVX512-BF16, SgemmBF16 is Sgemm.
var bf16Active *bf16Kernel

// cvtPairs sets dst[q] = pair(src[2q], src[2q+1]) (the last pair of an odd src taking a zero).
func cvtPairs(dst []uint32, src []float32) { cvtPairsGo(dst, src) }

// pairRows sets dst[j] = pair(r0[j], r1[j]), or pair(r0[j], 0) when r1 is nil.
func pairRows(dst []uint32, r0, r1 []float32) { pairRowsGo(dst, r0, r1) }

// pairPanel has no vector kernel here: false, nothing written.
func pairPanel(dst []uint32, b []float32, ldb, kpairs int) bool { return false }

// pairRowsPanels has no vector kernel here: 0, nothing written.
func pairRowsPanels(dst []uint32, stride int, r0, r1 []float32) int { return 0 }

// cvtRowsPanel has no vector kernel here: 0, nothing written.
func cvtRowsPanel(panel []uint32, a []float32, lda, kb int) int { return 0 }
