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
	if isThin(transB, m, n, k) {
		thin(&p, Workers())
		return
	}
	tunedKernel().forRows(m).sgemm(&p, Workers())
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
	if kc := kn.kBlock(p); splitsK(p, kc, workers) {
		splitK(p, kc, workers, func(sub *problem) {
			ws := getWorkspace(kn)
			kn.gemmRange(sub, 0, sub.m, 0, sub.n, ws)
			workspacePool.Put(ws)
		})
		return
	}
	kn.sgemmShared(p, workers)
}

// kBlock is the K block of p: the kernel's kc, or for a weight gradient (A transposed) an even
// number of equal blocks of at most kc, which split by K on two workers (splitK).
func (kn *microKernel) kBlock(p *problem) int {
	if !p.transA {
		return kn.kc
	}
	return kBlock(p.k, kn.kc, true)
}

// gemmRange computes the block C[i0:i1, j0:j1] completely (all of K) on the
// calling goroutine. The loop nest is the GotoBLAS one: column panels of nc,
// K blocks of kc (packing op(B) once per block), row panels of mc (packing
// op(A) where the kernel cannot read it in place), then the macro-kernel
// over mr×nr tiles.
func (kn *microKernel) gemmRange(p *problem, i0, i1, j0, j1 int, ws *workspace) {
	direct := kn.directA(p)
	kc := kn.kBlock(p)
	for jc := j0; jc < j1; jc += kn.nc {
		nb := min(kn.nc, j1-jc)
		for pc := 0; pc < p.k; pc += kc {
			kb := min(kc, p.k-pc)
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
	return p.transA || !rowsAliasMemo(4*p.lda, kn)
}

// aliasKey is what aRowsAlias's answer depends on, besides the machine's L1.
type aliasKey struct{ stride, mr, kc, nr int }

// aliasMemo remembers aRowsAlias's answers: a batch of small products (attention heads) asks the
// same question for every product, and the answer costs about as much as a small tile.
var aliasMemo sync.Map // aliasKey → bool

// rowsAliasMemo is aRowsAlias(strideBytes, kn.mr, kn, machineCaches.l1), remembered.
func rowsAliasMemo(strideBytes int, kn *microKernel) bool {
	key := aliasKey{strideBytes, kn.mr, kn.kc, kn.nr}
	if v, ok := aliasMemo.Load(key); ok {
		return v.(bool)
	}
	alias := aRowsAlias(strideBytes, kn.mr, kn, machineCaches.l1)
	aliasMemo.Store(key, alias)
	return alias
}

// macroKernel multiplies the mb×kb block of op(A) at (i0, p0) by columns
// [j0, j1) of a packed kb×nb block of op(B) (bp, nr-column panels of kb
// rows) into C (c already offset to the block's first row and column).
// The inner loop walks down the rows so that one kb×nr panel of B stays in
// L1 while the A panels stream from L2.
//
// With direct (kn.directA(p), decided once per product) full mr-row panels
// of op(A) are read straight from p.a; otherwise they are packed, as
// GotoBLAS does. The rows left over below the full panels go to the edge
// kernel when it has enough rows for them (a kernel with fewer rows and the
// same nr: it computes every element the same way, so the bits do not
// change), read in place when they fill it exactly, else packed and
// zero-padded; without an edge kernel they make a zero-padded panel of kn.
func (kn *microKernel) macroKernel(p *problem, ws *workspace, i0, mb, p0, kb int, bp []float32, j0, j1 int, c []float32, acc, direct bool) {
	mr, ldc := kn.mr, p.ldc
	full := mb / mr * mr // rows in full panels
	rem := mb - full
	ek := kn // the kernel for the remaining rows
	if rem > 0 && kn.edge != nil && rem <= kn.edge.mr {
		ek = kn.edge
	}
	// Full panel ir starts at a[aStart+ir*aStep], element (i, q) at +i*rsa+q*csa;
	// the remainder's panel at ra[0], element (i, q) at i*rrsa+q*rcsa.
	var a, ra []float32
	var aStart, aStep, rsa, csa, rrsa, rcsa int
	switch {
	case direct && p.transA:
		a, aStart, aStep, rsa, csa = p.a, p0*p.lda+i0, 1, 1, p.lda
	case direct:
		a, aStart, aStep, rsa, csa = p.a, i0*p.lda+p0, p.lda, p.lda, 1
	default:
		packA(p, i0, full, p0, kb, mr, ws.a)
		a, aStart, aStep, rsa, csa = ws.a, 0, kb, 1, mr
	}
	if rem > 0 {
		if direct && rem == ek.mr && ek.fnS != nil {
			ra, rrsa, rcsa = a[aStart+full*aStep:], rsa, csa
		} else {
			packA(p, i0+full, rem, p0, kb, ek.mr, ws.a[full*kb:])
			ra, rrsa, rcsa = ws.a[full*kb:], 1, ek.mr
		}
	}
	for jr := j0; jr < j1; jr += kn.nr {
		cols := min(kn.nr, j1-jr)
		b := bp[jr*kb : (jr+kn.nr)*kb]
		cj := c[jr:]
		for ir := 0; ir < full; ir += mr {
			kn.tile(kb, a[aStart+ir*aStep:], rsa, csa, b, cj[ir*ldc:], ldc, acc, mr, cols, ws.tmp)
		}
		if rem > 0 {
			ek.tile(kb, ra, rrsa, rcsa, b, cj[full*ldc:], ldc, acc, rem, cols, ws.tmp)
		}
	}
}

// tile computes rows×cols of C (rows <= kn.mr, cols <= kn.nr) from an A
// panel read with strides rsa, csa (a packed panel is 1, mr) and a packed B
// micro-panel. A tile the kernel covers exactly is computed in place; an
// edge tile is computed whole into tmp (at least mr×nr), then its valid part
// copied or added: c + sum is the same operation the kernel does in place,
// so edge and interior elements round identically.
func (kn *microKernel) tile(kb int, a []float32, rsa, csa int, b, c []float32, ldc int, acc bool, rows, cols int, tmp []float32) {
	narrow := cols <= kn.nrNarrow
	width := kn.nr
	if narrow {
		width = kn.nrNarrow
	}
	if rows == kn.mr && cols == width {
		kn.call(narrow, kb, a, rsa, csa, b, c, ldc, acc)
		return
	}
	nr := kn.nr
	kn.call(narrow, kb, a, rsa, csa, b, tmp[:kn.mr*nr], nr, false)
	for i := 0; i < rows; i++ {
		crow := c[i*ldc : i*ldc+cols]
		trow := tmp[i*nr : i*nr+cols]
		if acc {
			for j, v := range trow {
				crow[j] += v
			}
		} else {
			copy(crow, trow)
		}
	}
}

// call runs the kernel (or its narrow variant) on one tile, through the
// strided entry point where there is one, else on a packed A panel
// (rsa = 1, csa = mr).
func (kn *microKernel) call(narrow bool, kb int, a []float32, rsa, csa int, b, c []float32, ldc int, acc bool) {
	fn, fnS := kn.fn, kn.fnS
	if narrow {
		fn, fnS = kn.fnNarrow, kn.fnNarrowS
	}
	if fnS != nil {
		fnS(kb, a, rsa, csa, b, c, ldc, acc)
		return
	}
	fn(kb, a, b, c, ldc, acc)
}
