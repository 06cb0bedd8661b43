// Package vecmath holds vectorised float32 slice kernels for the hot
// element-wise parts of a training step: exp (softmax), both GELU forms with
// their derivatives, add/mul/scale/axpy, LayerNorm's fused row operations
// (SubScale, ScaleMulAdd, LayerNormGrad, LayerNormParamGrad), and
// float64-accumulated reductions.
// Go does not vectorise loops itself, and on a small GPT the scalar GELU and
// exp alone take about a quarter of the CPU time.
//
//	vecmath.GELUWithDerivative(y, dydx, x) // forward value and the derivative backward needs
//	vecmath.SoftmaxRow(p, logits)          // one row; −Inf entries give 0
//	s := vecmath.Dot(a, b)                 // float64, same bits on every CPU
//
// # Conventions
//
// Every function takes slices of equal length and panics with a message
// naming the function and the lengths if they differ. Outputs are written in
// place, nothing allocates, and dst may be the same slice as a source (but
// must not partly overlap one).
//
// # Implementations
//
// On amd64 the package picks at init, from CPUID and the OS-enabled register
// state, AVX-512F kernels (16 lanes, masked tails) or AVX2+FMA kernels
// (8 lanes); elsewhere, on older CPUs, and with -tags purego it uses the
// pure-Go kernels in generic.go, which are also the reference the assembly
// is tested against. Implementation reports the choice.
//
// # Accuracy
//
// Exp has a relative error below 4e-7 for normal results (measured: 9e-8),
// rounds once into the subnormal range, and saturates to +Inf and 0. GELU
// uses the exact form x·Φ(x) with Abramowitz–Stegun 7.1.26 for erfc, whose
// absolute error bound of 1.5e-7 dominates: Φ is within about 1e-7 absolute,
// so y and dy/dx are within about 2e-7·max(1, |x|). ±Inf give the limits (0
// and +Inf; derivatives 0 and 1) and NaN stays NaN. The assembly and Go
// kernels use the same algorithms and agree to a few ulp (the assembly fuses
// multiply-adds); Add, Mul, Scale, AddScaled and the LayerNorm kernels are
// sequences of separately rounded IEEE operations (never fused) and agree bit
// for bit, as do Sum, Dot and Max, whose reduction order is fixed.
package vecmath
