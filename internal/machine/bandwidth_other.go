//go:build !amd64 || purego

package machine

// sumFloats returns the sum of x, len(x) a multiple of 64.
func sumFloats(x []float32) float32 { return sumGo(x) }
