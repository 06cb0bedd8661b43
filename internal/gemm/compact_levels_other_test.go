//go:build !amd64 || purego

package gemm

import "testing"

// forEachCompactPath runs f with the only compact kernels there are: pure Go.
func forEachCompactPath(t *testing.T, f func(t *testing.T)) { t.Run(compactLevelName(), f) }
