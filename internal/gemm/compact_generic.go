package gemm

// The compact products' dot products in pure Go, the oracle of the vector kernels and the path
// of other architectures and -tags purego. Like dot, each is summed in 8 lanes × 2 chains (lane
// l of chain h takes elements 16s+8h+l), the chains added, then the lanes in a fixed order. The
// AVX2 kernels keep exactly this order (and fuse each multiply-add); the AVX-512 kernels take 32
// elements a step in two 16-lane chains, another fixed order. Each kernel computes an output the
// same way in its one-row and its four-row form.

// dotsBF16Generic is dotsBF16 in pure Go.
func dotsBF16Generic(rows, k int, a []float32, lda int, w []uint16, ldw, n int, c []float32, ldc int) {
	dotsGeneric(rows, k, a, lda, w, ldw, n, c, ldc, fromBF16)
}

// dotsInt8Generic is dotsInt8 in pure Go.
func dotsInt8Generic(rows, k int, a []float32, lda int, w []int8, ldw, n int, c []float32, ldc int) {
	dotsGeneric(rows, k, a, lda, w, ldw, n, c, ldc, func(v int8) float32 { return float32(v) })
}

func dotsGeneric[T uint16 | int8](rows, k int, a []float32, lda int, w []T, ldw, n int, c []float32, ldc int, widen func(T) float32) {
	for r := range rows {
		ar := a[r*lda : r*lda+k]
		for j := range n {
			wr := w[j*ldw : j*ldw+k]
			var c0, c1 [8]float32
			for s := 0; s+16 <= k; s += 16 {
				x, y := ar[s:s+16:s+16], wr[s:s+16:s+16]
				for l := range 8 {
					c0[l] += x[l] * widen(y[l])
					c1[l] += x[8+l] * widen(y[8+l])
				}
			}
			for l := range 8 {
				c0[l] += c1[l]
			}
			c[r*ldc+j] = ((c0[0] + c0[4]) + (c0[2] + c0[6])) + ((c0[1] + c0[5]) + (c0[3] + c0[7]))
		}
	}
}
