//go:build amd64 && !purego

package cpufeat

// cpuid executes CPUID with the given leaf (EAX) and subleaf (ECX).
//
//go:noescape
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0, the register state the OS saves on context switches; call it only when
// CPUID.1:ECX.OSXSAVE is set.
//
//go:noescape
func xgetbv() (eax, edx uint32)

func init() { AVX2FMA, AVX512F = detect() }

func detect() (avx2FMA, avx512f bool) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false, false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fmaBit     = 1 << 12
		osxsaveBit = 1 << 27
		avxBit     = 1 << 28
	)
	if ecx1&osxsaveBit == 0 || ecx1&avxBit == 0 {
		return false, false
	}
	xcr0, _ := xgetbv()
	const (
		ymmState = 1<<1 | 1<<2        // SSE and AVX upper halves
		zmmState = 1<<5 | 1<<6 | 1<<7 // opmask, ZMM0-15 upper halves, ZMM16-31
	)
	osYMM := xcr0&ymmState == ymmState
	osZMM := osYMM && xcr0&zmmState == zmmState
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		avx2Bit    = 1 << 5
		avx512fBit = 1 << 16
	)
	avx2FMA = osYMM && ecx1&fmaBit != 0 && ebx7&avx2Bit != 0
	avx512f = osZMM && avx2FMA && ebx7&avx512fBit != 0
	return avx2FMA, avx512f
}
