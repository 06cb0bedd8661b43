// Package cpufeat tells the assembly kernels which x86 instruction sets they may use, and what the
// CPU is (vendor, family, model, brand) and what data caches it has, so that the matrix product can
// size its cache blocks for the machine it runs on rather than for the one it was tuned on.
//
// A feature counts only when the CPU implements it and the operating system saves its registers on
// context switches: a CPU flag alone is not enough, since an OS that does not save ZMM registers
// would corrupt them. On other architectures, and with -tags purego, every feature is false and
// the identity and cache list are empty.
package cpufeat

var (
	// AVX2FMA: AVX2 and FMA3, with YMM state enabled by the OS.
	AVX2FMA bool
	// AVX512F: AVX-512F as well as AVX2FMA, with ZMM and opmask state enabled by the OS.
	AVX512F bool
	// AVX512BF16: AVX512_BF16 (VDPBF16PS, VCVTNE2PS2BF16) as well as AVX512F: bfloat16 dot
	// products accumulated in float32 (Intel Cooper Lake, Sapphire Rapids and later; AMD Zen 4+).
	AVX512BF16 bool
	// AVX512VNNI: AVX512_VNNI (VPDPBUSD, int8 dot products into int32) as well as AVX512F.
	AVX512VNNI bool
)

// CPU identity as CPUID reports it (a hypervisor may mask the brand, as some clouds do).
var (
	Vendor string // "GenuineIntel", "AuthenticAMD", ...
	Brand  string // e.g. "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz"; may be empty or generic
	// Family and Model are the display values (base plus extended fields), the numbers that
	// /proc/cpuinfo prints and that vendors' optimisation manuals use: Intel Sapphire Rapids is
	// family 6 model 143, AMD Zen 4 family 25 (0x19), Zen 5 family 26 (0x1A).
	Family, Model, Stepping int
)

// Cache describes one level of data (or unified) cache as seen by one core.
type Cache struct {
	Level    int // 1, 2, 3
	Size     int // bytes
	Ways     int // associativity; 0 if unknown or fully associative
	LineSize int // bytes
	Sets     int
	SharedBy int // logical processors sharing it (an upper bound, as CPUID reports it)
}

// Caches lists the data and unified caches, innermost first. It is empty where CPUID gives no
// cache description.
var Caches []Cache

// DataCache returns the data or unified cache of the given level (1, 2, 3).
func DataCache(level int) (Cache, bool) {
	for _, c := range Caches {
		if c.Level == level {
			return c, true
		}
	}
	return Cache{}, false
}
