package gemm

// packA copies rows [i0, i0+mb) and columns [p0, p0+kb) of op(A) into dst as
// consecutive mr-row panels. Within a panel, element (i, p) is at p*mr+i, so
// the micro-kernel reads the mr values of one k step contiguously. Rows past
// mb in the last panel are zero so that edge tiles need no special kernel.
func packA(p *problem, i0, mb, p0, kb, mr int, dst []float32) {
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		panel := dst[ir*kb : (ir+mr)*kb]
		if p.transA {
			// A is k×m: each k step's mr values are contiguous in memory.
			for q := 0; q < kb; q++ {
				src := p.a[(p0+q)*p.lda+i0+ir:]
				out := panel[q*mr : q*mr+mr]
				copy(out[:rows], src[:rows])
				clear(out[rows:])
			}
			continue
		}
		// A is m×k: a transposition. Row by row, the reads are contiguous
		// and the writes stride by mr.
		base := (i0+ir)*p.lda + p0
		if rows == 8 && mr == 8 {
			packRows8(panel, p.a, base, p.lda, kb)
			continue
		}
		for i := 0; i < rows; i++ {
			src := p.a[base+i*p.lda : base+i*p.lda+kb]
			for q, v := range src {
				panel[q*mr+i] = v
			}
		}
		for i := rows; i < mr; i++ {
			for q := 0; q < kb; q++ {
				panel[q*mr+i] = 0
			}
		}
	}
}

// packRows8 interleaves 8 rows of length kb (starting at src[base], stride ld)
// into dst, 8 values per column. Reading eight streams at once writes dst
// sequentially, which is faster than eight strided passes.
func packRows8(dst, src []float32, base, ld, kb int) {
	r0 := src[base : base+kb]
	r1 := src[base+ld : base+ld+kb]
	r2 := src[base+2*ld : base+2*ld+kb]
	r3 := src[base+3*ld : base+3*ld+kb]
	r4 := src[base+4*ld : base+4*ld+kb]
	r5 := src[base+5*ld : base+5*ld+kb]
	r6 := src[base+6*ld : base+6*ld+kb]
	r7 := src[base+7*ld : base+7*ld+kb]
	dst = dst[:8*kb]
	for q := range r0 {
		d := dst[q*8 : q*8+8 : q*8+8]
		d[0], d[1], d[2], d[3] = r0[q], r1[q], r2[q], r3[q]
		d[4], d[5], d[6], d[7] = r4[q], r5[q], r6[q], r7[q]
	}
}

// packB copies rows [p0, p0+kb) and columns [j0, j0+nb) of op(B) into dst as
// consecutive nr-column panels; within a panel element (p, j) is at p*nr+j.
// Columns past nb in the last panel are zero.
func packB(p *problem, p0, kb, j0, nb, nr int, dst []float32) {
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		panel := dst[jr*kb : (jr+nr)*kb]
		if !p.transB {
			// B is k×n: each k step's nr values are contiguous.
			for q := 0; q < kb; q++ {
				src := p.b[(p0+q)*p.ldb+j0+jr:]
				out := panel[q*nr : q*nr+nr]
				copy(out[:cols], src[:cols])
				clear(out[cols:])
			}
			continue
		}
		// B is n×k (used transposed): gather column j from row j of B.
		base := (j0+jr)*p.ldb + p0
		if cols == nr && nr%4 == 0 {
			for j := 0; j < nr; j += 4 {
				packCols4(panel[j:], nr, p.b, base+j*p.ldb, p.ldb, kb)
			}
			continue
		}
		for j := 0; j < cols; j++ {
			src := p.b[base+j*p.ldb : base+j*p.ldb+kb]
			for q, v := range src {
				panel[q*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for q := 0; q < kb; q++ {
				panel[q*nr+j] = 0
			}
		}
	}
}

// packCols4 writes 4 source rows (length kb, stride ld) as 4 adjacent columns
// of a panel with row stride nr.
func packCols4(dst []float32, nr int, src []float32, base, ld, kb int) {
	r0 := src[base : base+kb]
	r1 := src[base+ld : base+ld+kb]
	r2 := src[base+2*ld : base+2*ld+kb]
	r3 := src[base+3*ld : base+3*ld+kb]
	for q := range r0 {
		d := dst[q*nr : q*nr+4 : q*nr+4]
		d[0], d[1], d[2], d[3] = r0[q], r1[q], r2[q], r3[q]
	}
}
