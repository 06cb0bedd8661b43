//go:build amd64 && !purego

package gemm

import "github.com/goformer/goformer/internal/cpufeat"

//go:noescape
func dotAVX2(k int, a, b *float32, acc *[8]float32)

func init() {
	if cpufeat.AVX2FMA {
		dotVector = dotAVX2Checked
	}
}

// dotAVX2Checked checks the lengths the kernel relies on.
func dotAVX2Checked(a, b []float32, acc *[8]float32) {
	k := len(a)
	if k == 0 || k%16 != 0 {
		panic("gemm: dot vector length must be a positive multiple of 16")
	}
	_ = b[k-1]
	dotAVX2(k, &a[0], &b[0], acc)
}
