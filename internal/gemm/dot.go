package gemm

// dot returns the dot product of a and b (b at least as long as a) in float32, the way the thin
// products compute each output. The vector part (the longest prefix that is a multiple of 16)
// is summed in 8 lanes × 2 chains (lane l of chain c takes elements 16s+8c+l) by dotVector when
// the CPU has a kernel, otherwise by dotGeneric; the lanes are then added in a fixed order and
// the tail last, so the result depends only on the two rows, never on the goroutine or the
// worker count. (The vector kernel fuses each multiply-add, so its last bits can differ from
// the pure-Go form's.)
func dot(a, b []float32) float32 {
	var acc [8]float32
	n := len(a) &^ 15
	if n > 0 {
		if dotVector != nil {
			dotVector(a[:n], b[:n], &acc)
		} else {
			dotGeneric(a[:n], b[:n], &acc)
		}
	}
	l := &acc
	s := ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
	for q := n; q < len(a); q++ {
		s += a[q] * b[q]
	}
	return s
}

// dotVector is the CPU's kernel for dot's vector part (nil where there is none): len(a) a
// positive multiple of 16, b at least as long; it leaves chain 0 + chain 1 in acc.
var dotVector func(a, b []float32, acc *[8]float32)

// dotGeneric is the pure-Go form of the vector kernel.
func dotGeneric(a, b []float32, acc *[8]float32) {
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
		acc[l] = c0[l] + c1[l]
	}
}
