package hf_test

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// measure returns the CPU time that f takes on its own thread (CLOCK_THREAD_CPUTIME_ID, exact where
// getrusage moves only at scheduler ticks), which other processes on a busy machine do not inflate.
func measure(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	read := func() (time.Duration, bool) {
		var ts syscall.Timespec
		_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3 /* CLOCK_THREAD_CPUTIME_ID */, uintptr(unsafe.Pointer(&ts)), 0)
		return time.Duration(ts.Nano()), errno == 0
	}
	before, ok := read()
	if !ok {
		start := time.Now()
		f()
		return time.Since(start)
	}
	f()
	after, _ := read()
	return after - before
}
