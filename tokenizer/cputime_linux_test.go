package tokenizer

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID, which package syscall does not name.
const clockThreadCPUTime = 3

// threadCPU returns the CPU time that the calling thread has used. (getrusage's figure for a thread
// moves only at scheduler ticks, milliseconds apart; this clock is exact.)
func threadCPU() (time.Duration, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano()), errno == 0
}

// measure returns the CPU time that f takes on its thread. Unlike wall time, it does not count the
// time that other processes on a busy machine take the CPU away, so it is steady enough to compare.
func measure(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, ok := threadCPU()
	if !ok {
		return wallTime(f)
	}
	f()
	after, _ := threadCPU()
	return after - before
}
