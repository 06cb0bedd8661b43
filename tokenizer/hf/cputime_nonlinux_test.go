//go:build !linux

package hf_test

import "time"

// measure returns the wall time that f takes (a thread's CPU time is read on Linux only).
func measure(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
