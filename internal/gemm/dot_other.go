//go:build !amd64 || purego

package gemm

const dotRowsVector = false

// dotRows sets c[j] to dot(a[:k], b[j*ldb:j*ldb+k]) for j < len(c), k a positive multiple of 16.
func dotRows(a, b []float32, ldb int, c []float32) { dotRowsGeneric(a, b, ldb, c) }
