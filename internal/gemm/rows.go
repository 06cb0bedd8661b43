package gemm

// RowProduct is one weight matrix of SgemvTGroup: C (N) = x·Bᵀ for B (N, K) stored row-major
// with rows Ldb apart, or C += x·Bᵀ with Accumulate (C holding a bias, as an Affine layer's
// product adds onto it).
type RowProduct struct {
	B          []float32
	N, Ldb     int
	C          []float32
	Accumulate bool
}

// SgemvTGroup computes several products of one row x (K) with weight matrices stored
// transposed: for each, what Sgemm(false, true, 1, N, K, x, K, B, Ldb, C, N, Accumulate)
// computes, bit for bit (each output is its own weight row's dot product, summed the same
// way). The matrices' outputs are shared among the workers as one job: a Llama layer's q, k and
// v projections, or SwiGLU's gate and up, which read the same input but are held apart in a
// model that trains, then stream like one stacked matrix (one hand-off and one long run of
// weights per worker, instead of one per matrix).
func SgemvTGroup(k int, x []float32, ps []RowProduct) {
	if k <= 0 || len(x) < k {
		panic("gemm.SgemvTGroup: the row is shorter than K or K is not positive")
	}
	var n int
	var flops, bytes float64
	probs := make([]problem, len(ps))
	for i, rp := range ps {
		checkArgs(false, true, 1, rp.N, k, x, k, rp.B, rp.Ldb, rp.C, max(rp.N, 1))
		probs[i] = problem{false, true, 1, rp.N, k, x, k, rp.B, rp.Ldb, rp.C, max(rp.N, 1), rp.Accumulate}
		n += rp.N
		flops += 2 * float64(rp.N) * float64(k)
		bytes += 4 * float64(rp.N) * float64(k)
	}
	rows := [][]float32{x[:k]}
	workers := Workers()
	if !splitThin(workers, flops, bytes) {
		for i := range probs {
			if probs[i].n > 0 {
				thinColumns(&probs[i], x, k, rows, 0, probs[i].n)
			}
		}
		return
	}
	// the outputs of all the matrices, one after another, as one range of columns
	thinFor(n, workers, bytes, func(lo, hi int) {
		off := 0
		for i := range probs {
			a, b := max(lo, off), min(hi, off+probs[i].n)
			if a < b {
				thinColumns(&probs[i], x, k, rows, a-off, b-off)
			}
			off += probs[i].n
		}
	})
}
