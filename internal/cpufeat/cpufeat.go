// Package cpufeat tells the assembly kernels which x86 instruction sets they may use. A feature
// counts only when the CPU implements it and the operating system saves its registers on
// context switches: a CPU flag alone is not enough, since an OS that does not save ZMM registers
// would corrupt them. On other architectures, and with -tags purego, every feature is false.
package cpufeat

var (
	// AVX2FMA: AVX2 and FMA3, with YMM state enabled by the OS.
	AVX2FMA bool
	// AVX512F: AVX-512F as well as AVX2FMA, with ZMM and opmask state enabled by the OS.
	AVX512F bool
)
