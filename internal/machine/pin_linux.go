package machine

import (
	"syscall"
	"unsafe"
)

// pinToCPU binds the calling OS thread to CPU cpu (sched_setaffinity), reporting success.
func pinToCPU(cpu int) bool {
	var mask [16]uint64 // CPUs 0-1023
	if cpu < 0 || cpu >= 64*len(mask) {
		return false
	}
	mask[cpu/64] = 1 << (cpu % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0])))
	return errno == 0
}
