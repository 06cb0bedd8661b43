//go:build !amd64 || purego

package gemm

const dotRowsVector = false

// dotRows sets c[j] to dot(a[:k], b[j*ldb:j*ldb+k]) for j < len(c), k a positive multiple of 16.
func dotRows(a, b []float32, ldb int, c []float32) { dotRowsGeneric(a, b, ldb, c) }

// dotRows4 is dotRows for the four rows of A at a[r*lda:], into c[r*ldc:r*ldc+n], r < 4.
func dotRows4(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc, n int) {
	dotRows4Generic(k, a, lda, b, ldb, c, ldc, n)
}
