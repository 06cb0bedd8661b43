//go:build !amd64 || purego

package gemm

// transpose8 writes the kb×8 transpose of 8 source rows (src[i*lds+q],
// i < 8, q < kb) to dst[q*ldd+i].
func transpose8(dst []float32, ldd int, src []float32, lds, kb int) {
	transpose8Go(dst, ldd, src, lds, kb)
}

// copyPanel writes rows [0, kb) of width nr from src (stride lds) to dst, contiguously.
func copyPanel(dst []float32, src []float32, lds, nr, kb int) {
	copyPanelGo(dst, src, lds, nr, kb)
}
