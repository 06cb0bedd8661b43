//go:build !amd64 || purego

package gemm

// bf16Kernels lists the bf16 kernels this build can run: the pure-Go reference only.
func bf16Kernels() []*bf16Kernel { return []*bf16Kernel{bf16Go} }

// bf16Active is nil: without AVX512-BF16, SgemmBF16 is Sgemm.
var bf16Active *bf16Kernel
