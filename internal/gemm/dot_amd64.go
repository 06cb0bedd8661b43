//go:build amd64 && !purego

package gemm

import "github.com/goformer/goformer/internal/cpufeat"

//go:noescape
func dotRowsAVX2(k int, a, b *float32, ldb, n int, c *float32)

var dotRowsVector = cpufeat.AVX2FMA

// dotRows sets c[j] to dot(a[:k], b[j*ldb:j*ldb+k]) for j < len(c), k a positive multiple of 16.
func dotRows(a, b []float32, ldb int, c []float32) {
	k, n := len(a), len(c)
	if k == 0 || k%16 != 0 {
		panic("gemm: dotRows length must be a positive multiple of 16")
	}
	if n == 0 {
		return
	}
	_ = b[(n-1)*ldb+k-1]
	if !dotRowsVector {
		dotRowsGeneric(a, b, ldb, c)
		return
	}
	dotRowsAVX2(k, &a[0], &b[0], ldb, n, &c[0])
}
