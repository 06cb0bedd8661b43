//go:build amd64 && !purego

package machine

import "github.com/goformer/goformer/internal/cpufeat"

// sumAVX2 (bandwidth_amd64.s) sums n floats (n a multiple of 64) with four YMM accumulators.
//
//go:noescape
func sumAVX2(p *float32, n int) float32

// sumFloats returns the sum of x, len(x) a multiple of 64, reading it at the speed of memory.
func sumFloats(x []float32) float32 {
	if cpufeat.AVX2FMA && len(x) > 0 {
		return sumAVX2(&x[0], len(x))
	}
	return sumGo(x)
}
