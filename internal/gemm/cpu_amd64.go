//go:build amd64 && !purego

package gemm

// cpuid executes CPUID with the given leaf (EAX) and subleaf (ECX).
//
//go:noescape
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0, the register of state components the OS saves on
// context switches. Only the CPU executing it must support XSAVE (checked
// through CPUID.1:ECX.OSXSAVE before calling).
//
//go:noescape
func xgetbv() (eax, edx uint32)

// cpuFeatures are the instruction sets the kernels need, each true only when
// both the CPU implements it and the OS preserves its registers.
type cpuFeatures struct {
	avx2FMA bool // AVX2 and FMA3 with YMM state enabled
	avx512  bool // AVX-512F with ZMM and opmask state enabled
}

func detectCPU() cpuFeatures {
	var f cpuFeatures
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return f
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fmaBit     = 1 << 12
		osxsaveBit = 1 << 27
		avxBit     = 1 << 28
	)
	if ecx1&osxsaveBit == 0 || ecx1&avxBit == 0 {
		return f
	}
	xcr0, _ := xgetbv()
	const (
		xmmYmmState = 1<<1 | 1<<2        // SSE and AVX upper halves
		zmmState    = 1<<5 | 1<<6 | 1<<7 // opmask, ZMM0-15 upper halves, ZMM16-31
	)
	osYMM := xcr0&xmmYmmState == xmmYmmState
	osZMM := osYMM && xcr0&zmmState == zmmState
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		avx2Bit    = 1 << 5
		avx512fBit = 1 << 16
	)
	f.avx2FMA = osYMM && ecx1&fmaBit != 0 && ebx7&avx2Bit != 0
	f.avx512 = osZMM && f.avx2FMA && ebx7&avx512fBit != 0
	return f
}
