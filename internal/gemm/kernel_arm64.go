//go:build arm64 && !purego

package gemm

// The NEON micro-kernels (kernel_arm64.s): kernel8x12NEON is an 8×12 tile in
// 24 accumulator vectors; kernel8x8NEON computes only its first 8 columns
// (B still read with the 12-wide panel stride), the narrow edge kernel. With
// nr = 12 a last column panel of 8 real columns (n = 32, 128, 512 ...) is then
// computed in place at full width, and one of 1 to 7 (n = 64, 65, 256 ...)
// wastes at most 7 columns instead of 11.
//
// They read packed A panels only: the kernel loads a k step's 8 A values as
// two vectors and multiplies by lane (FMLA by element), which an A read in
// place with strides would have to assemble value by value. So fnS is nil and
// the macro-kernel packs every A panel, as GotoBLAS does. NEON is part of
// ARMv8-A, so no CPU feature check is needed.
//
//go:noescape
func kernel8x12NEON(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel8x8NEON(k int, a, b, c *float32, ldc int, accumulate bool)

// The wrappers check that the slices hold what the kernel will touch, so an
// indexing bug surfaces as a panic rather than memory corruption.

func kernelNEON(k int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[8*k-1]
	_ = b[12*k-1]
	_ = c[7*ldc+11]
	kernel8x12NEON(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernelNEONNarrow(k int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[8*k-1]
	_ = b[12*(k-1)+7]
	_ = c[7*ldc+7]
	kernel8x8NEON(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

var neonKernel = &microKernel{
	name: "neon-8x12",
	mr:   8, nr: 12,
	// Chosen for the smaller arm64 caches, not tuned on hardware: the B
	// micro-panel 256×12 = 12 KiB plus the streaming 8 KiB A micro-panel
	// fit a 32 KiB L1D with room to spare (64 KiB on Cortex-A76/N1, 128 KiB
	// on Apple's performance cores); the A block 128×256 = 128 KiB fits
	// the smallest L2s of laptop-class cores (256 KiB and up); the B block
	// 256×768 = 768 KiB fits a 1 MiB L2 or the shared L2/L3. A larger nc
	// would only save repacking A, once per 768 columns.
	kc: 256, mc: 128, nc: 768,
	fn:       kernelNEON,
	nrNarrow: 8, fnNarrow: kernelNEONNarrow,
}

func init() { activeKernel = neonKernel }

// supportedKernels lists every kernel this CPU can run, so tests exercise
// all of them, not only the one chosen at init.
func supportedKernels() []*microKernel { return []*microKernel{genericKernel, neonKernel} }
