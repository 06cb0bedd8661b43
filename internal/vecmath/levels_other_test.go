//go:build !amd64 || purego

package vecmath

import "testing"

func forEachPath(t *testing.T, f func(t *testing.T)) { t.Run("go", f) }

func withPath(name string, f func()) bool {
	if name != "go" {
		return false
	}
	f()
	return true
}
