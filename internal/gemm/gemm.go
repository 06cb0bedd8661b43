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
	g := kn.split(p.m, p.n, workers)
	pp := *p // the closure's copy escapes, so p itself can stay on the caller's stack
	parallelFor(g.count(), workers, func(t int, ws *workspace) {
		i0, i1, j0, j1 := g.tile(t)
		kn.gemmRange(&pp, i0, i1, j0, j1, ws)
	}, kn)
}

// gemmRange computes the block C[i0:i1, j0:j1] completely (all of K). The
// loop nest is the GotoBLAS one: column panels of nc, K blocks of kc (packing
// op(B) once per block), row panels of mc (packing op(A)), then the
// macro-kernel over mr×nr tiles.
func (kn *microKernel) gemmRange(p *problem, i0, i1, j0, j1 int, ws *workspace) {
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
				packA(p, ic, mb, pc, kb, kn.mr, ws.a)
				kn.macroKernel(ws, mb, nb, kb, p.c[ic*p.ldc+jc:], p.ldc, acc)
			}
		}
	}
}

// macroKernel multiplies a packed mb×kb block of op(A) by a packed kb×nb block
// of op(B) into C (already offset to the block), tile by tile. The inner loop
// walks down the rows so that one kb×nr panel of B stays in L1 while the A
// panels stream from L2.
func (kn *microKernel) macroKernel(ws *workspace, mb, nb, kb int, c []float32, ldc int, acc bool) {
	mr, nr := kn.mr, kn.nr
	tmp := ws.tmp[:mr*nr]
	for jr := 0; jr < nb; jr += nr {
		nrEff := min(nr, nb-jr)
		bp := ws.b[jr*kb : (jr+nr)*kb]
		fn, width := kn.fn, nr
		if nrEff <= kn.nrNarrow {
			fn, width = kn.fnNarrow, kn.nrNarrow
		}
		for ir := 0; ir < mb; ir += mr {
			mrEff := min(mr, mb-ir)
			ap := ws.a[ir*kb : (ir+mr)*kb]
			if mrEff == mr && nrEff == width {
				fn(kb, ap, bp, c[ir*ldc+jr:], ldc, acc)
				continue
			}
			// Edge tile: compute the whole padded tile into tmp, then copy
			// the valid part. c + sum is the same operation the kernel does
			// in place, so edge and interior elements round identically.
			fn(kb, ap, bp, tmp, nr, false)
			for i := 0; i < mrEff; i++ {
				crow := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+nrEff]
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
