//go:build amd64 && !purego

package gemm

//go:noescape
func copyRows8(dst, src *float32, lds, rows, chunks int)

//go:noescape
func transpose8x8Blocks(dst, src *float32, ldd, lds, blocks int)

// transpose8 writes the kb×8 transpose of 8 source rows (src[i*lds+q],
// i < 8, q < kb) to dst[q*ldd+i]. The AVX version needs only AVX, which
// every CPU running the vector kernels has.
func transpose8(dst []float32, ldd int, src []float32, lds, kb int) {
	blocks := kb / 8
	if blocks > 0 && (cpu.avx2FMA || cpu.avx512) {
		// Bounds: the asm touches rows 0-7 of src up to column 8·blocks and
		// dst rows up to 8·blocks.
		_ = src[7*lds+8*blocks-1]
		_ = dst[(8*blocks-1)*ldd+7]
		transpose8x8Blocks(&dst[0], &src[0], ldd, lds, blocks)
		if done := 8 * blocks; done < kb {
			transpose8Go(dst[done*ldd:], ldd, src[done:], lds, kb-done)
		}
		return
	}
	transpose8Go(dst, ldd, src, lds, kb)
}

// copyPanel writes rows [0, kb) of width nr (a multiple of 8) from src (stride lds) to dst,
// contiguously: dst[q*nr+j] = src[q*lds+j].
func copyPanel(dst []float32, src []float32, lds, nr, kb int) {
	if kb == 0 {
		return
	}
	if cpu.avx2FMA || cpu.avx512 {
		_ = src[(kb-1)*lds+nr-1]
		_ = dst[kb*nr-1]
		copyRows8(&dst[0], &src[0], lds, kb, nr/8)
		return
	}
	copyPanelGo(dst, src, lds, nr, kb)
}
