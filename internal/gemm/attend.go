package gemm

// One query against a cache of keys and values: the two products of a decoding step's
// attention, for one query head (HS floats) and the n positions its KV head has cached. At one
// query row a step's attention is a few hundred of these short products per layer; run as
// batched matrix products, their per-call setup and the horizontal sum after every row cost
// more than the arithmetic. These kernels keep the query (or the output row) in registers, read
// each cached row once, and sum four rows' lanes together.

// QueryScores sets s[t] to the dot product of q with key row t, k[t·ldk : t·ldk+len(q)], for
// t < len(s).
func QueryScores(q, k []float32, ldk int, s []float32) {
	hs, n := len(q), len(s)
	if n == 0 {
		return
	}
	if hs == 0 {
		clear(s)
		return
	}
	_ = k[(n-1)*ldk+hs-1]
	if attendVector && hs%16 == 0 {
		scoresAVX512(hs, &q[0], &k[0], ldk, n, &s[0])
		return
	}
	queryScoresGeneric(q, k, ldk, s)
}

// WeightedRows sets y to Σ_t p[t]·v[t·ldv : t·ldv+len(y)] over t < len(p): the attention
// weights of one query applied to its cached values.
func WeightedRows(p, v []float32, ldv int, y []float32) {
	hs, n := len(y), len(p)
	if n == 0 || hs == 0 {
		clear(y)
		return
	}
	_ = v[(n-1)*ldv+hs-1]
	if attendVector && hs%16 == 0 {
		weightedAVX512(hs, &p[0], n, &v[0], ldv, &y[0])
		return
	}
	weightedRowsGeneric(p, v, ldv, y)
}

// queryScoresGeneric is QueryScores in Go, in the vector kernel's order: sixteen lanes
// accumulated along the row, the upper eight added onto the lower, then pairs, then quads.
func queryScoresGeneric(q, k []float32, ldk int, s []float32) {
	hs := len(q)
	for t := range s {
		row := k[t*ldk : t*ldk+hs]
		var lanes [16]float32
		for i, x := range q {
			lanes[i%16] += x * row[i]
		}
		var y [8]float32
		for l := range 8 {
			y[l] = lanes[l] + lanes[l+8]
		}
		s[t] = ((y[0] + y[1]) + (y[2] + y[3])) + ((y[4] + y[5]) + (y[6] + y[7]))
	}
}

// weightedRowsGeneric is WeightedRows in Go, in the vector kernel's order: even and odd
// positions summed apart, then added.
func weightedRowsGeneric(p, v []float32, ldv int, y []float32) {
	for c := range y {
		var even, odd float32
		t := 0
		for ; t+2 <= len(p); t += 2 {
			even += p[t] * v[t*ldv+c]
			odd += p[t+1] * v[(t+1)*ldv+c]
		}
		if t < len(p) {
			even += p[t] * v[t*ldv+c]
		}
		y[c] = even + odd
	}
}
