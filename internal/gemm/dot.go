package gemm

// The thin products' dot product of a row of op(A) with a row of B (a weight row, when B is a
// PyTorch-layout (out, in) weight), in float32. The part that is a multiple of 16 long is
// summed in 8 lanes × 2 chains (lane l of chain c takes elements 16s+8c+l), by dotRows's vector
// kernel where the CPU has one, otherwise by dotLanes; the chains are added, then the lanes in
// a fixed order, then the tail in order. So an output depends only on its two rows, never on the
// goroutine or the worker count. (The vector kernel fuses each multiply-add, so its last bits
// can differ from the pure-Go form's.)

// dot returns the dot product of a and b[:len(a)].
func dot(a, b []float32) float32 {
	n := len(a) &^ 15
	var s float32
	if n > 0 {
		var c [1]float32
		dotRows(a[:n], b, n, c[:])
		s = c[0]
	}
	for q := n; q < len(a); q++ {
		s += a[q] * b[q]
	}
	return s
}

// dotRowsGeneric is dotRows in pure Go.
func dotRowsGeneric(a, b []float32, ldb int, c []float32) {
	for j := range c {
		l := dotLanes(a, b[j*ldb:j*ldb+len(a)])
		c[j] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
	}
}

// dotLanes returns the 8 lanes (chain 0 + chain 1) of the dot product of a and b, len(a) a
// multiple of 16.
func dotLanes(a, b []float32) [8]float32 {
	var c0, c1 [8]float32
	b = b[:len(a)]
	for s := 0; s+16 <= len(a); s += 16 {
		x, y := a[s:s+16:s+16], b[s:s+16:s+16]
		for l := range 8 {
			c0[l] += x[l] * y[l]
			c1[l] += x[8+l] * y[8+l]
		}
	}
	for l := range 8 {
		c0[l] += c1[l]
	}
	return c0
}

// dotRows4Generic is dotRows4 in pure Go.
func dotRows4Generic(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc, n int) {
	for r := range 4 {
		dotRowsGeneric(a[r*lda:r*lda+k], b, ldb, c[r*ldc:r*ldc+n])
	}
}
