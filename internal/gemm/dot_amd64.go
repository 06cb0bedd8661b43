//go:build amd64 && !purego

package gemm

import "github.com/goformer/goformer/internal/cpufeat"

//go:noescape
func dotRowsAVX2(k int, a, b *float32, ldb, n int, c *float32)

//go:noescape
func dotRows4AVX2(k int, a *float32, lda int, b *float32, ldb, n int, c *float32, ldc int)

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

// dotRows4 is dotRows for the four rows of A at a[r*lda:], into c[r*ldc:r*ldc+n], r < 4.
func dotRows4(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc, n int) {
	if k == 0 || k%16 != 0 {
		panic("gemm: dotRows4 length must be a positive multiple of 16")
	}
	if n == 0 {
		return
	}
	_ = a[3*lda+k-1]
	_ = b[(n-1)*ldb+k-1]
	_ = c[3*ldc+n-1]
	if !dotRowsVector {
		dotRows4Generic(k, a, lda, b, ldb, c, ldc, n)
		return
	}
	dotRows4AVX2(k, &a[0], lda, &b[0], ldb, n, &c[0], ldc)
}
