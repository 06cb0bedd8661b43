//go:build amd64 && !purego

package gemm

import "testing"

// forEachCompactPath runs f once for every compact kernel set this CPU can execute, from the
// widest down to pure Go, so one machine tests them all.
func forEachCompactPath(t *testing.T, f func(t *testing.T)) {
	saved := compactLevel
	defer func() { compactLevel = saved }()
	for l := saved; l >= compactGo; l-- {
		compactLevel = l
		t.Run(compactLevelName(), f)
	}
}
