package gemm

import (
	"fmt"
	"sync"
)

// Sgemm computes C = op(A)·op(B), or C += op(A)·op(B) when accumulate is true.
// op(A) is m×k: A is stored row-major as m×k with leading dimension lda (transA=false),
// or as k×m with leading dimension lda (transA=true, i.e. A is used transposed).
// op(B) is k×n: B stored k×n with ldb (transB=false) or n×k with ldb (transB=true).
// C is m×n with leading dimension ldc.
func Sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	p := problem{transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate}
	if m > 0 && m < thinMaxM && n > 0 && k > 0 {
		thin(&p, Workers())
		return
	}
	activeKernel.sgemm(&p, Workers())
}

// problem is one product, with a, b and c already offset to its matrices.
type problem struct {
	transA, transB bool
	m, n, k        int
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	accumulate     bool
}

// checkArgs panics on shapes and slices that cannot hold the described
// matrices, so that the packing and kernel code can rely on them.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("A", a, ar, ac, lda)
	checkMatrix("B", b, br, bc, ldb)
	checkMatrix("C", c, m, n, ldc)
}

func checkMatrix(name string, x []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("gemm: leading dimension of %s is %d, less than its %d columns", name, ld, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(x) < need {
		panic(fmt.Sprintf("gemm: %s has %d elements, a %d×%d matrix with ld %d needs %d", name, len(x), rows, cols, ld, need))
	}
}

// workspace holds the packing buffers of one goroutine. They are pooled so
// that a steady stream of calls allocates nothing.
type workspace struct {
	a, b []float32
	tmp  []float32 // one mr×nr tile, for edge tiles the kernel cannot write in place
}

var workspacePool = sync.Pool{New: func() any { return new(workspace) }}

func getWorkspace(kn *microKernel) *workspace {
	ws := workspacePool.Get().(*workspace)
	if n := kn.mc * kn.kc; len(ws.a) < n {
		ws.a = make([]float32, n)
	}
	if n := kn.kc * kn.nc; len(ws.b) < n {
		ws.b = make([]float32, n)
	}
	if n := kn.mr * kn.nr; len(ws.tmp) < n {
		ws.tmp = make([]float32, n)
	}
	return ws
}

// sgemm runs one product, on up to workers goroutines.
func (kn *microKernel) sgemm(p *problem, workers int) {
	if p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 {
		if !p.accumulate {
			for i := 0; i < p.m; i++ {
				clear(p.c[i*p.ldc : i*p.ldc+p.n])
			}
		}
		return
	}
	flops := 2 * float64(p.m) * float64(p.n) * float64(p.k)
	if workers <= 1 || flops < parallelMinFlops {
		ws := getWorkspace(kn)
		kn.gemmRange(p, 0, p.m, 0, p.n, ws)
		workspacePool.Put(ws)
		return
	}
	kn.sgemmShared(p, workers)
}

// gemmRange computes the block C[i0:i1, j0:j1] completely (all of K) on the
// calling goroutine. The loop nest is the GotoBLAS one: column panels of nc,
// K blocks of kc (packing op(B) once per block), row panels of mc (packing
// op(A) where the kernel cannot read it in place), then the macro-kernel
// over mr×nr tiles.
func (kn *microKernel) gemmRange(p *problem, i0, i1, j0, j1 int, ws *workspace) {
	direct := kn.directA(p)
	for jc := j0; jc < j1; jc += kn.nc {
		nb := min(kn.nc, j1-jc)
		for pc := 0; pc < p.k; pc += kn.kc {
			kb := min(kn.kc, p.k-pc)
			// The first K block overwrites C unless the caller accumulates;
			// later blocks always add to what the earlier ones wrote.
			acc := p.accumulate || pc > 0
			packB(p, pc, kb, jc, nb, kn.nr, ws.b)
			for ic := i0; ic < i1; ic += kn.mc {
				mb := min(kn.mc, i1-ic)
				kn.macroKernel(p, ws, ic, mb, pc, kb, ws.b, 0, nb, p.c[ic*p.ldc+jc:], acc, direct)
			}
		}
	}
}

// directA reports whether the kernel reads full row panels of op(A) in
// place rather than from a packed copy: it must have strided variants, and
// the rows of a row-major A must not fall into the same few L1 sets (see
// aRowsAlias). A transposed A is read one k step per cache line, each
// line once per micro-kernel call, so set conflicts cost it nothing.
func (kn *microKernel) directA(p *problem) bool {
	if kn.fnS == nil {
		return false
	}
	return p.transA || !aRowsAlias(4*p.lda, kn.mr, kn, machineCaches.l1)
}

// macroKernel multiplies the mb×kb block of op(A) at (i0, p0) by columns
// [j0, j1) of a packed kb×nb block of op(B) (bp, nr-column panels of kb
// rows) into C (c already offset to the block's first row and column).
// The inner loop walks down the rows so that one kb×nr panel of B stays in
// L1 while the A panels stream from L2.
//
// With direct (kn.directA(p), decided once per product) full mr-row panels
// of op(A) are read straight from p.a and only a ragged last panel is packed
// (zero-padded); otherwise the whole block is packed, as GotoBLAS does.
func (kn *microKernel) macroKernel(p *problem, ws *workspace, i0, mb, p0, kb int, bp []float32, j0, j1 int, c []float32, acc, direct bool) {
	mr, nr, ldc := kn.mr, kn.nr, p.ldc
	tmp := ws.tmp[:mr*nr]
	// A panel ir starts at a[aStart+ir*aStep], element (i, q) at +i*rsa+q*csa.
	var a []float32
	var aStart, aStep, rsa, csa int
	full := mb / mr * mr // rows in full panels
	if direct {
		if p.transA {
			a, aStart, aStep, rsa, csa = p.a, p0*p.lda+i0, 1, 1, p.lda
		} else {
			a, aStart, aStep, rsa, csa = p.a, i0*p.lda+p0, p.lda, p.lda, 1
		}
		if full < mb {
			packA(p, i0+full, mb-full, p0, kb, mr, ws.a)
		}
	} else {
		packA(p, i0, mb, p0, kb, mr, ws.a)
		a, aStart, aStep, rsa, csa = ws.a, 0, kb, 1, mr
		full = 0 // every panel goes through fn
	}
	for jr := j0; jr < j1; jr += nr {
		nrEff := min(nr, j1-jr)
		b := bp[jr*kb : (jr+nr)*kb]
		fn, fnS, width := kn.fn, kn.fnS, nr
		if nrEff <= kn.nrNarrow {
			fn, fnS, width = kn.fnNarrow, kn.fnNarrowS, kn.nrNarrow
		}
		cj := c[jr:]
		if nrEff == width {
			for ir := 0; ir < full; ir += mr {
				fnS(kb, a[aStart+ir*aStep:], rsa, csa, b, cj[ir*ldc:], ldc, acc)
			}
		}
		for ir := 0; ir < mb; ir += mr {
			if ir < full && nrEff == width {
				continue // done above
			}
			mrEff := min(mr, mb-ir)
			var ap []float32
			if ir >= full || !direct {
				// A packed panel: the ragged last one, or every panel.
				off := 0
				if !direct {
					off = ir * kb
				}
				ap = ws.a[off : off+mr*kb]
			}
			if mrEff == mr && nrEff == width {
				fn(kb, ap, b, cj[ir*ldc:], ldc, acc)
				continue
			}
			// Edge tile: compute the whole padded tile into tmp, then copy
			// the valid part. c + sum is the same operation the kernel does
			// in place, so edge and interior elements round identically.
			if ap != nil {
				fn(kb, ap, b, tmp, nr, false)
			} else {
				fnS(kb, a[aStart+ir*aStep:], rsa, csa, b, tmp, nr, false)
			}
			for i := 0; i < mrEff; i++ {
				crow := cj[(ir+i)*ldc : (ir+i)*ldc+nrEff]
				trow := tmp[i*nr : i*nr+nrEff]
				if acc {
					for j, v := range trow {
						crow[j] += v
					}
				} else {
					copy(crow, trow)
				}
			}
		}
	}
}
