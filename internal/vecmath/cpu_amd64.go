//go:build amd64 && !purego

package vecmath

// cpuid executes CPUID with the given leaf (EAX) and subleaf (ECX).
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0, the register state the OS saves on context switches;
// call it only when CPUID.1:ECX.OSXSAVE is set.
func xgetbv() (eax, edx uint32)

// Instruction-set levels, in increasing order.
const (
	levelGo     = iota
	levelAVX2   // AVX2 + FMA3 with YMM state enabled by the OS
	levelAVX512 // AVX-512F as well, with ZMM and opmask state enabled
)

// detectLevel reports the highest level that both the CPU implements and the
// OS preserves across context switches: a CPU flag alone is not enough, since
// an OS that does not save ZMM registers would corrupt them.
func detectLevel() int {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return levelGo
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fmaBit     = 1 << 12
		osxsaveBit = 1 << 27
		avxBit     = 1 << 28
	)
	if ecx1&osxsaveBit == 0 || ecx1&avxBit == 0 || ecx1&fmaBit == 0 {
		return levelGo
	}
	xcr0, _ := xgetbv()
	const (
		ymmState = 1<<1 | 1<<2        // SSE and AVX upper halves
		zmmState = 1<<5 | 1<<6 | 1<<7 // opmask, ZMM0-15 upper halves, ZMM16-31
	)
	if xcr0&ymmState != ymmState {
		return levelGo
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		avx2Bit    = 1 << 5
		avx512fBit = 1 << 16
	)
	if ebx7&avx2Bit == 0 {
		return levelGo
	}
	if xcr0&zmmState == zmmState && ebx7&avx512fBit != 0 {
		return levelAVX512
	}
	return levelAVX2
}
