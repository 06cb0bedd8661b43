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
			base := p0*p.lda + i0 + ir
			// Fixed-size array copies compile to a few vector moves;
			// copy() of 24 to 48 bytes would cost a memmove call each.
			switch {
			case rows == 8 && mr == 8:
				for q := 0; q < kb; q++ {
					*(*[8]float32)(panel[q*8:]) = [8]float32(p.a[base+q*p.lda:])
				}
				continue
			case rows == 12 && mr == 12:
				for q := 0; q < kb; q++ {
					*(*[12]float32)(panel[q*12:]) = [12]float32(p.a[base+q*p.lda:])
				}
				continue
			case rows == 6 && mr == 6:
				for q := 0; q < kb; q++ {
					*(*[6]float32)(panel[q*6:]) = [6]float32(p.a[base+q*p.lda:])
				}
				continue
			}
			for q := 0; q < kb; q++ {
				src := p.a[base+q*p.lda:]
				out := panel[q*mr : q*mr+mr]
				copy(out[:rows], src[:rows])
				clear(out[rows:])
			}
			continue
		}
		// A is m×k: packing transposes it, eight rows at a time through
		// transpose8 (8×8 register transposes on amd64), then four through
		// transpose4, then row by row (reads contiguous, writes strided by
		// mr); rows past the panel's last real one are zero.
		base := (i0+ir)*p.lda + p0
		i := 0
		for ; i+8 <= rows; i += 8 {
			transpose8(panel[i:], mr, p.a[base+i*p.lda:], p.lda, kb)
		}
		for ; i+4 <= rows; i += 4 {
			transpose4(panel[i:], mr, p.a[base+i*p.lda:], p.lda, kb)
		}
		for ; i < rows; i++ {
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

// transpose8Go is the portable transpose8: it reads eight source rows at
// once so that dst is written sequentially, one 8-value group per column.
func transpose8Go(dst []float32, ldd int, src []float32, lds, kb int) {
	if kb == 0 {
		return
	}
	r0 := src[0:kb]
	r1 := src[lds : lds+kb]
	r2 := src[2*lds : 2*lds+kb]
	r3 := src[3*lds : 3*lds+kb]
	r4 := src[4*lds : 4*lds+kb]
	r5 := src[5*lds : 5*lds+kb]
	r6 := src[6*lds : 6*lds+kb]
	r7 := src[7*lds : 7*lds+kb]
	for q := range r0 {
		d := (*[8]float32)(dst[q*ldd:])
		d[0], d[1], d[2], d[3] = r0[q], r1[q], r2[q], r3[q]
		d[4], d[5], d[6], d[7] = r4[q], r5[q], r6[q], r7[q]
	}
}

// copyPanelGo is the portable copyPanel: dst[q*nr+j] = src[q*lds+j], j < nr, q < kb.
func copyPanelGo(dst []float32, src []float32, lds, nr, kb int) {
	for q := 0; q < kb; q++ {
		copy(dst[q*nr:q*nr+nr], src[q*lds:q*lds+nr])
	}
}

// transpose4 is transpose8 for four rows: dst[q*ldd+i] = src[i*lds+q], i < 4.
func transpose4(dst []float32, ldd int, src []float32, lds, kb int) {
	if kb == 0 {
		return
	}
	r0 := src[0:kb]
	r1 := src[lds : lds+kb]
	r2 := src[2*lds : 2*lds+kb]
	r3 := src[3*lds : 3*lds+kb]
	for q := range r0 {
		d := (*[4]float32)(dst[q*ldd:])
		d[0], d[1], d[2], d[3] = r0[q], r1[q], r2[q], r3[q]
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
			if cols == nr && nr%8 == 0 {
				copyPanel(panel, p.b[p0*p.ldb+j0+jr:], p.ldb, nr, kb)
				continue
			}
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
		if cols == nr && nr%8 == 0 {
			for j := 0; j < nr; j += 8 {
				transpose8(panel[j:], nr, p.b[base+j*p.ldb:], p.ldb, kb)
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
