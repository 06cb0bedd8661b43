// Package gemm implements single-precision general matrix multiplication
// (SGEMM) for goformer's tensor package.
//
// Conventions:
//
//   - All matrices are row-major. A matrix with r rows, c columns and leading
//     dimension ld stores element (i, j) at index i*ld+j, with ld >= c. Only the
//     first c elements of each row are read or written; the gap between c and ld
//     is never touched, so views into larger matrices work.
//   - Sgemm computes C = op(A)·op(B), or C += op(A)·op(B) when accumulate is
//     true. op(X) is X or Xᵀ; a transposed operand is never materialised, the
//     packing routines read it in the transposed order directly.
//   - A and B are only read. C is only written where it lies in the m×n
//     result; with accumulate=false C is not read at all (it may hold NaNs).
//   - C must not alias A or B. Products of a batch must not write overlapping
//     C regions, but may share A or B (broadcast batch dimensions).
//   - Results do not depend on the worker count: work is divided over output
//     tiles only, never over the K dimension, and every output element is summed
//     in the same order (K blocks ascending, then k ascending within a block)
//     whatever the split. The vector kernels all compute an element as one FMA
//     per k step in that order, so they agree to the bit with each other when
//     their K blocks (kc) agree; the pure-Go kernel does not fuse. kc comes
//     from the L1 size (blocking.go), so results can differ in the last bits
//     between machines with different caches, never between runs on one.
//
// Structure (GotoBLAS/BLIS style): the K dimension is cut into blocks of kc;
// for each block a kc×nc panel of op(B) and an mc×kc panel of op(A) are packed
// into contiguous, zero-padded buffers laid out in the order the micro-kernel
// reads them, and a register-blocked micro-kernel computes mr×nr tiles of C.
// kc, mc and nc are derived at init from the cache sizes CPUID reports
// (blocking.go, the BLIS analytical model). The micro-kernel is chosen at init:
// on amd64 from CPU features, AVX-512 (12×32 on Intel, 8×32 on AMD, each with
// a 16-column variant for narrow last column panels; the first product times
// both and keeps the faster, tune.go), AVX2+FMA (6×16) or pure Go (4×4); on
// arm64 NEON (8×12, with an 8×8 narrow variant), which every ARMv8-A CPU has.
// The build tag purego, or any other target, forces the pure-Go kernel.
// GOFORMER_SGEMM_KERNEL=name overrides the choice among the kernels the CPU
// can run, to measure them (bench/sgemm -kernel does the same).
//
// The amd64 vector kernels also have strided variants that read op(A) in place
// (element (i, p) at a[i*rsa+p*csa]), so full mr-row panels of A are not
// packed; only a ragged last panel is, and every panel of a row-major A whose
// rows would share L1 sets (a leading dimension that is a multiple of 4 KiB,
// see aRowsAlias). They perform the same FMAs in the
// same order as on a packed panel, so results are unchanged. The arm64
// kernel multiplies by lanes of A vectors loaded from a packed panel, so it
// packs every A panel, as GotoBLAS does.
//
// Thin products (thin.go), with fewer than four rows, or up to 32 with B transposed (a
// PyTorch-layout weight), as generation with a KV cache makes for one sequence or a batch, are
// not packed at all: packing B would cost as much as the product. With B transposed each output
// is a float32 dot product of two rows in a fixed lane order (an AVX2+FMA kernel taking four
// rows of A per weight row, or pure Go), so it does not depend on m or the worker count;
// otherwise each output row is a sum of scaled rows of B.
//
// Compact weights (compact.go): a weight matrix held as bfloat16 or as int8 with a float32 scale
// per row, for inference, multiplied by float32 activations (MulCompactT). Up to 32 rows of A
// it is the thin scheme with the weights widened in registers (AVX-512, AVX2 or pure Go), each
// output independent of m and of the worker count; beyond, blocks of 256 weight rows are widened
// into a float32 scratch and multiplied by Sgemm.
//
// Parallelism (shared.go, parallel.go): a single product on several
// workers packs each kc×nr panel of op(B) once, the workers sharing the
// packing, then splits the output into tiles handed out from a counter.
// Batched products give whole products to workers. Workers come from
// internal/parallel's pool of persistent helper goroutines, which stay awake
// (spinning, yielding the P) for a short while after each job, because
// waking a parked goroutine costs about as much as a small product; a caller
// never waits for a helper that has not started by the time the work is done.
package gemm
