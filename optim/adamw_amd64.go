//go:build amd64 && !purego

package optim

import "github.com/goformer/goformer/internal/cpufeat"

// adamwAVX2 updates n elements (a multiple of 8) with 8-lane AVX instructions, one rounding per
// operation as adamwGo does (no fused multiply-add).
//
//go:noescape
func adamwAVX2(p, grad, m, v *float32, n int, c *adamwConsts)

// adamwVectorOn says whether adamwVector uses the CPU's vector kernel; tests turn it off to
// compare with the Go loop.
var adamwVectorOn = cpufeat.AVX2FMA

// adamwVector updates the longest prefix that is a multiple of 8 elements and returns its length.
func adamwVector(p, g, m, v []float32, c *adamwConsts) int {
	n := len(p) &^ 7
	if !adamwVectorOn || n == 0 {
		return 0
	}
	adamwAVX2(&p[0], &g[0], &m[0], &v[0], n, c)
	return n
}
