//go:build !linux

package tokenizer

import "time"

// measure returns the wall time that f takes (CPU time per thread is read on Linux only).
func measure(f func()) time.Duration { return wallTime(f) }
