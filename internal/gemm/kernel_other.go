//go:build (!amd64 && !arm64) || purego

package gemm

func init() { activeKernel = genericKernel }

// supportedKernels lists every kernel this build can run.
func supportedKernels() []*microKernel { return []*microKernel{genericKernel} }
