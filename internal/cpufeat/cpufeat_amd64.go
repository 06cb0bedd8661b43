//go:build amd64 && !purego

package cpufeat

import (
	"strings"
)

// cpuid executes CPUID with the given leaf (EAX) and subleaf (ECX).
//
//go:noescape
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0, the register state the OS saves on context switches; call it only when
// CPUID.1:ECX.OSXSAVE is set.
//
//go:noescape
func xgetbv() (eax, edx uint32)

func init() {
	AVX2FMA, AVX512F = detect()
	AVX512BF16, AVX512VNNI = detectDot(AVX512F)
	Vendor, Brand, Family, Model, Stepping = identify()
	Caches = caches(Vendor)
}

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

// detectDot reports AVX512_BF16 (CPUID.(7,1):EAX bit 5) and AVX512_VNNI (CPUID.(7,0):ECX bit
// 11); both use the ZMM state, so they count only where AVX-512F does.
func detectDot(avx512f bool) (bf16, vnni bool) {
	if !avx512f {
		return false, false
	}
	eax7, _, ecx7, _ := cpuid(7, 0)
	vnni = ecx7&(1<<11) != 0
	if eax7 >= 1 { // the largest subleaf of leaf 7
		eax71, _, _, _ := cpuid(7, 1)
		bf16 = eax71&(1<<5) != 0
	}
	return bf16, vnni
}

// identify reads the vendor string (leaf 0), the family and model (leaf 1) and the brand string
// (leaves 0x80000002-4).
func identify() (vendor, brand string, family, model, stepping int) {
	_, b, c, d := cpuid(0, 0)
	vendor = string(regBytes(b, d, c))
	a1, _, _, _ := cpuid(1, 0)
	stepping = int(a1 & 0xf)
	model = int(a1 >> 4 & 0xf)
	family = int(a1 >> 8 & 0xf)
	// The extended fields count only for these base families (Intel SDM vol. 2, CPUID leaf 1;
	// AMD uses family 0xF with an extended family for everything since K8).
	if family == 0xf {
		family += int(a1 >> 20 & 0xff)
	}
	if family == 0x6 || family >= 0xf {
		model += int(a1>>16&0xf) << 4
	}
	if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt >= 0x80000004 {
		var raw []byte
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, b, c, d := cpuid(leaf, 0)
			raw = append(raw, regBytes(a, b, c, d)...)
		}
		brand = strings.Join(strings.Fields(strings.TrimRight(string(raw), "\x00")), " ")
	}
	return vendor, brand, family, model, stepping
}

func regBytes(regs ...uint32) []byte {
	out := make([]byte, 0, 4*len(regs))
	for _, r := range regs {
		out = append(out, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	return out
}

// caches reads the deterministic cache parameters: leaf 4 on Intel, leaf 0x8000001D on AMD
// (same layout, present with the TOPOEXT feature), else AMD's older leaves 0x80000005/6.
func caches(vendor string) []Cache {
	maxLeaf, _, _, _ := cpuid(0, 0)
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	switch {
	case vendor == "AuthenticAMD" || vendor == "HygonGenuine":
		const topoextBit = 1 << 22
		if maxExt >= 0x8000001d {
			if _, _, ecx, _ := cpuid(0x80000001, 0); ecx&topoextBit != 0 {
				if cs := deterministicCaches(0x8000001d); len(cs) > 0 {
					return cs
				}
			}
		}
		return amdLegacyCaches(maxExt)
	case maxLeaf >= 4:
		return deterministicCaches(4)
	}
	return nil
}

// deterministicCaches walks the subleaves of leaf 4 or 0x8000001D until a null entry.
func deterministicCaches(leaf uint32) []Cache {
	var out []Cache
	for sub := uint32(0); sub < 16; sub++ {
		a, b, c, _ := cpuid(leaf, sub)
		typ := a & 0x1f
		if typ == 0 {
			break
		}
		if typ == 2 { // instruction cache
			continue
		}
		cc := Cache{
			Level:    int(a >> 5 & 0x7),
			LineSize: int(b&0xfff) + 1,
			Ways:     int(b>>22&0x3ff) + 1,
			Sets:     int(c) + 1,
			SharedBy: int(a>>14&0xfff) + 1,
		}
		partitions := int(b>>12&0x3ff) + 1
		cc.Size = cc.Ways * partitions * cc.LineSize * cc.Sets
		if a&(1<<9) != 0 { // fully associative
			cc.Ways = 0
		}
		out = append(out, cc)
	}
	return out
}

// amdLegacyCaches reads leaves 0x80000005 (L1D) and 0x80000006 (L2, L3).
func amdLegacyCaches(maxExt uint32) []Cache {
	var out []Cache
	if maxExt >= 0x80000005 {
		_, _, c, _ := cpuid(0x80000005, 0)
		if size := int(c>>24) << 10; size > 0 {
			out = append(out, legacyCache(1, size, int(c>>16&0xff), int(c&0xff)))
		}
	}
	if maxExt >= 0x80000006 {
		_, _, c, d := cpuid(0x80000006, 0)
		// The associativity of these two is an encoded field (AMD APM vol. 3, CPUID 8000_0006h).
		if size := int(c>>16) << 10; size > 0 {
			out = append(out, legacyCache(2, size, amdAssoc(c>>12&0xf), int(c&0xff)))
		}
		if size := int(d>>18) << 19; size > 0 {
			out = append(out, legacyCache(3, size, amdAssoc(d>>12&0xf), int(d&0xff)))
		}
	}
	return out
}

func legacyCache(level, size, ways, line int) Cache {
	c := Cache{Level: level, Size: size, Ways: ways, LineSize: line, SharedBy: 1}
	if ways > 0 && line > 0 {
		c.Sets = size / (ways * line)
	}
	return c
}

func amdAssoc(code uint32) int {
	switch code {
	case 1, 2, 4:
		return int(code)
	case 5:
		return 6
	case 6:
		return 8
	case 8:
		return 16
	case 0xa:
		return 32
	case 0xb:
		return 48
	case 0xc:
		return 64
	case 0xd:
		return 96
	case 0xe:
		return 128
	}
	return 0
}
