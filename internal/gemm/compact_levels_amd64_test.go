//go:build amd64 && !purego

package gemm

import "testing"

// forEachCompactPath runs f once for every compact kernel set this CPU can execute, from the
// widest down to pure Go, so one machine tests them all: first the kernels that take int8 or
// bf16 activations (AVX512-VNNI, AVX512-BF16: int8Activations, bf16Activations), then the
// AVX-512 widening ones.
func forEachCompactPath(t *testing.T, f func(t *testing.T)) {
	saved, savedVNNI, savedDot := compactLevel, compactVNNI, compactBF16Dot
	defer func() { compactLevel, compactVNNI, compactBF16Dot = saved, savedVNNI, savedDot }()
	if (savedVNNI || savedDot) && saved == compactAVX512 {
		t.Run("avx512-dot", f)
	}
	compactVNNI, compactBF16Dot = false, false
	for l := saved; l >= compactGo; l-- {
		compactLevel = l
		t.Run(compactLevelName(), f)
	}
}
