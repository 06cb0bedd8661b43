//go:build !linux

package machine

// pinToCPU cannot bind threads here.
func pinToCPU(cpu int) bool { return false }
