//go:build amd64 && !purego

package gemm

import "testing"

// forEachCompactPath runs f once for every compact kernel set this CPU can execute, from the
// widest down to pure Go, so one machine tests them all: with AVX512-VNNI first the int8
// activation kernels (int8Activations), then the AVX-512 widening ones.
func forEachCompactPath(t *testing.T, f func(t *testing.T)) {
	saved, savedVNNI := compactLevel, compactVNNI
	defer func() { compactLevel, compactVNNI = saved, savedVNNI }()
	if savedVNNI && saved == compactAVX512 {
		t.Run("avx512-vnni", f)
	}
	compactVNNI = false
	for l := saved; l >= compactGo; l-- {
		compactLevel = l
		t.Run(compactLevelName(), f)
	}
}
