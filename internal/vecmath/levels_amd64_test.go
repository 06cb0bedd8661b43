//go:build amd64 && !purego

package vecmath

import "testing"

// forEachPath runs f once for every kernel set this CPU can execute, from
// the widest down to pure Go, so one machine tests them all.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	saved := level
	defer func() { level = saved }()
	for l := saved; l >= levelGo; l-- {
		level = l
		t.Run(Implementation(), f)
	}
}

// withPath runs f with the kernels of the named path (false if unavailable).
func withPath(name string, f func()) bool {
	saved := level
	defer func() { level = saved }()
	for l := saved; l >= levelGo; l-- {
		level = l
		if Implementation() == name {
			f()
			return true
		}
	}
	return false
}
