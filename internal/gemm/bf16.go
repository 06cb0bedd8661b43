package gemm

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/goformer/goformer/internal/parallel"
)

// bfloat16 products (SgemmBF16): the inputs are rounded to bfloat16 while they are packed and
// the products are accumulated in float32, as mixed-precision training does. On a CPU with
// AVX512-BF16 the micro-kernel is VDPBF16PS, which takes two bf16 products per float32 lane per
// instruction, twice the float32 FMA's work; elsewhere SgemmBF16 is Sgemm, the float32 product.
//
// Layout: K is taken in pairs. A packed A panel holds, for each pair q of its K block and each of
// its mr rows, one uint32 with bf16(a[i][2q]) in the low half and bf16(a[i][2q+1]) in the high
// half (element (q, i) at q·mr+i); a packed B panel likewise 32 columns per pair (q·32+j). An odd
// K block ends with a pair whose high half is zero. The loop nest is Sgemm's: column blocks of
// nc, K blocks of kc (an even number), the kc×nc block of op(B) packed once and shared by the
// workers, then row blocks of op(A) packed and multiplied by each worker.
//
// Rounding, exactly as the kernels compute it (bf16KernelGo is the reference):
//   - an input x becomes toBF16DAZ(x): round to nearest even, a float32 subnormal flushed to a
//     signed zero (as VCVTNEPS2BF16 does), a NaN kept quiet;
//   - each output element starts each K block at +0 and takes, pair by pair, the high (odd k)
//     product then the low (even k) one, each added with one float32 rounding; a product or sum
//     that is subnormal is flushed to zero (VDPBF16PS's DAZ/FTZ semantics; products of two
//     bf16 values are otherwise exact in float32);
//   - the K blocks' sums are added to C in ascending order, as in Sgemm, so the result does not
//     depend on the worker count.

// bf16NR is the column width of every bf16 kernel (two ZMM registers of float32 lanes).
const bf16NR = 32

// bf16Kernel is an mr×32 micro-kernel on packed bf16-pair panels: kp ≥ 1 pairs, a holds mr·kp
// and b 32·kp values; it sets (or, with accumulate, adds to) the whole mr×32 tile at c.
type bf16Kernel struct {
	name string
	mr   int
	fn   func(kp int, a, b []uint32, c []float32, ldc int, accumulate bool)
}

// bf16Go is the pure-Go kernel: the reference of the assembly ones, used by tests on any machine.
var bf16Go = &bf16Kernel{name: "bf16-go-8x32", mr: 8, fn: func(kp int, a, b []uint32, c []float32, ldc int, accumulate bool) {
	bf16KernelGo(8, kp, a, b, c, ldc, accumulate)
}}

// bf16Blocks are the cache blocks of the bf16 products: as blocks() for Sgemm, with two bytes
// per element: the kc×32 B micro-panel takes 32 KiB of L1 (or all of a smaller one), the
// mc×kc A block half of L2, the kc×nc B block half of this core's share of L3.
func bf16Blocks(mr int, c caches) (kc, mc, nc int) {
	kc = min(32<<10, c.l1.size) / (2 * bf16NR)
	kc = clamp(kc/16*16, 64, 1024)
	mc = c.l2.size / 2 / (2 * kc)
	mc = clamp(mc/mr*mr, 4*mr, 96*mr)
	l3 := c.l3.size / max(c.l3.sharedBy, 1)
	nc = l3 / 2 / (2 * kc)
	nc = clamp(nc/bf16NR*bf16NR, 16*bf16NR, 128*bf16NR)
	return kc, mc, nc
}

// BF16Native reports whether SgemmBF16 multiplies in bfloat16 on this CPU (AVX512-BF16); where
// it does not, SgemmBF16 is the float32 Sgemm.
func BF16Native() bool { return bf16Active != nil }

// SgemmBF16 is Sgemm with the inputs rounded to bfloat16 and the products accumulated in float32
// (see the rounding rules above), on CPUs with AVX512-BF16; elsewhere it is Sgemm. The result
// does not depend on the worker count. The relative error against the float32 product is of
// the order of 2⁻⁸ of Σ|a||b| per element.
func SgemmBF16(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if bf16Active == nil {
		Sgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	p := problem{transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate}
	bf16Active.gemm(&p, bf16KC, Workers())
}

// SgemmBF16Batched is SgemmBatched in bfloat16 (see SgemmBF16): with at least as many products
// as workers (attention's, one per batch entry and head), each product whole on one worker;
// otherwise each product in turn on all of them. The results are the same either way.
func SgemmBF16Batched(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, offsets []BatchOffsets, accumulate bool) {
	if bf16Active == nil {
		SgemmBatched(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, offsets, accumulate)
		return
	}
	for _, o := range offsets {
		if o.A < 0 || o.B < 0 || o.C < 0 || o.A > len(a) || o.B > len(b) || o.C > len(c) {
			panic(fmt.Sprintf("gemm: batch offsets %+v out of range", o))
		}
		checkArgs(transA, transB, m, n, k, a[o.A:], lda, b[o.B:], ldb, c[o.C:], ldc)
	}
	workers := Workers()
	if workers > 1 && len(offsets) >= workers && 2*float64(m)*float64(n)*float64(k)*float64(len(offsets)) >= parallelMinFlops {
		parallel.For(len(offsets), workers, func(lo, hi int) {
			for _, o := range offsets[lo:hi] {
				p := problem{transA, transB, m, n, k, a[o.A:], lda, b[o.B:], ldb, c[o.C:], ldc, accumulate}
				bf16Active.gemm(&p, bf16KC, 1)
			}
		})
		return
	}
	for _, o := range offsets {
		SgemmBF16(transA, transB, m, n, k, a[o.A:], lda, b[o.B:], ldb, c[o.C:], ldc, accumulate)
	}
}

// toBF16DAZ is toBF16 with a float32 subnormal flushed to a signed zero, as VCVTNEPS2BF16 does.
func toBF16DAZ(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7f800000 == 0 {
		return uint16(b >> 16 & 0x8000)
	}
	return toBF16(f)
}

// widenDAZ is a bf16 as float32, a subnormal read as a signed zero (VDPBF16PS's DAZ).
func widenDAZ(h uint16) float32 {
	if h&0x7f80 == 0 {
		h &= 0x8000
	}
	return fromBF16(h)
}

// ftz flushes a float32 subnormal to a signed zero.
func ftz(x float32) float32 {
	if b := math.Float32bits(x); b&0x7f800000 == 0 {
		return math.Float32frombits(b & 0x80000000)
	}
	return x
}

// bf16KernelGo is the bf16 micro-kernel in pure Go, computing exactly what VDPBF16PS computes
// per Intel's definition: per pair, acc += hi·hi, then acc += lo·lo, each rounded (and flushed).
func bf16KernelGo(mr, kp int, a, b []uint32, c []float32, ldc int, accumulate bool) {
	for i := range mr {
		for j := range bf16NR {
			var s float32
			for q := range kp {
				x, y := a[q*mr+i], b[q*bf16NR+j]
				s = ftz(s + ftz(float32(widenDAZ(uint16(x>>16))*widenDAZ(uint16(y>>16)))))
				s = ftz(s + ftz(float32(widenDAZ(uint16(x))*widenDAZ(uint16(y)))))
			}
			if accumulate {
				c[i*ldc+j] += s
			} else {
				c[i*ldc+j] = s
			}
		}
	}
}

// pair packs two float32 values as bf16 (lo in the low half).
func pair(lo, hi float32) uint32 { return uint32(toBF16DAZ(lo)) | uint32(toBF16DAZ(hi))<<16 }

// cvtPairsGo is cvtPairs in pure Go: dst[q] = pair(src[2q], src[2q+1]), the last pair of an
// odd-length src taking a zero; len(dst) = (len(src)+1)/2.
func cvtPairsGo(dst []uint32, src []float32) {
	for q := range len(src) / 2 {
		dst[q] = pair(src[2*q], src[2*q+1])
	}
	if len(src)%2 == 1 {
		dst[len(src)/2] = pair(src[len(src)-1], 0)
	}
}

// pairRowsGo is pairRows in pure Go: dst[j] = pair(r0[j], r1[j]), or pair(r0[j], 0) if r1 is nil.
func pairRowsGo(dst []uint32, r0, r1 []float32) {
	if r1 == nil {
		for j, v := range r0 {
			dst[j] = pair(v, 0)
		}
		return
	}
	r1 = r1[:len(r0)]
	for j, v := range r0 {
		dst[j] = pair(v, r1[j])
	}
}

// asFloats views packed bf16 pairs as float32 bit patterns, for the 32-bit transposes of
// pack.go (which only move values, never convert them).
func asFloats(x []uint32) []float32 {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), len(x))
}

// packABF16 packs rows [i0, i0+mb) and columns [p0, p0+kb) of op(A) into mr-row panels of bf16
// pairs (see the layout above); rows past mb are zero. tmp holds at least 8·kp values.
func packABF16(p *problem, i0, mb, p0, kb, mr int, dst, tmp []uint32) {
	kp := (kb + 1) / 2
	if p.transA {
		// A is k×m: rows 2q and 2q+1 of the block, paired, give pair q of every row at once,
		// written straight into the panels (row i of the block at dst[(i/mr)·mr·kp + q·mr +
		// i%mr]): with 8-row panels the whole 16s of rows in one vector pass, the rest (and other
		// panel heights, which only tests use) one by one.
		for q := range kp {
			r0 := p.a[(p0+2*q)*p.lda+i0 : (p0+2*q)*p.lda+i0+mb]
			var r1 []float32
			done := 0
			if 2*q+1 < kb {
				r1 = p.a[(p0+2*q+1)*p.lda+i0 : (p0+2*q+1)*p.lda+i0+mb]
				if mr == 8 {
					done = pairRowsPanels(dst[q*8:], 8*kp, r0, r1)
				}
			}
			for i := done; i < roundUp(mb, mr); i++ {
				var v uint32
				if i < mb && r1 != nil {
					v = pair(r0[i], r1[i])
				} else if i < mb {
					v = pair(r0[i], 0)
				}
				dst[i/mr*mr*kp+q*mr+i%mr] = v
			}
		}
		return
	}
	// A is m×k: each row converted to kp pairs (contiguous), then transposed into the panel.
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		panel := dst[ir*kp : (ir+mr)*kp]
		i := 0
		if rows == 8 && mr == 8 {
			// Both in one pass where the CPU has it, the last pairs as below.
			rowA := p.a[(i0+ir)*p.lda+p0:]
			q0 := cvtRowsPanel(panel, rowA, p.lda, kb)
			if q0 == kp {
				continue
			}
			for r := range 8 {
				row := rowA[r*p.lda : r*p.lda+kb]
				for q := q0; q < kp; q++ {
					if 2*q+1 < kb {
						panel[q*8+r] = pair(row[2*q], row[2*q+1])
					} else {
						panel[q*8+r] = pair(row[2*q], 0)
					}
				}
			}
			continue
		}
		for ; i+8 <= rows; i += 8 {
			for r := range 8 {
				row := p.a[(i0+ir+i+r)*p.lda+p0:]
				cvtPairs(tmp[r*kp:(r+1)*kp], row[:kb])
			}
			transpose8(asFloats(panel[i:]), mr, asFloats(tmp), kp, kp)
		}
		for ; i < rows; i++ {
			row := p.a[(i0+ir+i)*p.lda+p0:]
			cvtPairs(tmp[:kp], row[:kb])
			for q, v := range tmp[:kp] {
				panel[q*mr+i] = v
			}
		}
		for ; i < mr; i++ {
			for q := range kp {
				panel[q*mr+i] = 0
			}
		}
	}
}

// packBBF16 packs columns [j0, j0+nb) (nb ≤ 32) and rows [p0, p0+kb) of op(B) into one 32-column
// panel of bf16 pairs; columns past nb are zero. tmp holds at least 32·kp values.
func packBBF16(p *problem, p0, kb, j0, nb int, dst, tmp []uint32) {
	kp := (kb + 1) / 2
	panel := dst[:kp*bf16NR]
	if p.transB {
		// B is n×k: column j of op(B) is row j0+j, converted to pairs, then all transposed.
		for j := range nb {
			row := p.b[(j0+j)*p.ldb+p0:]
			cvtPairs(tmp[j*kp:(j+1)*kp], row[:kb])
		}
		clear(tmp[nb*kp : bf16NR*kp])
		for g := 0; g < bf16NR; g += 8 {
			transpose8(asFloats(panel[g:]), bf16NR, asFloats(tmp[g*kp:]), kp, kp)
		}
		return
	}
	if nb < bf16NR {
		clear(panel)
	}
	q0 := 0
	if full := kb / 2; nb == bf16NR && full > 0 && pairPanel(panel, p.b[p0*p.ldb+j0:], p.ldb, full) {
		q0 = full // the pairs of whole row pairs in one call; an odd last row below
	}
	for q := q0; q < kp; q++ { // B is k×n: rows p0+2q and p0+2q+1, contiguous in j
		r0 := p.b[(p0+2*q)*p.ldb+j0 : (p0+2*q)*p.ldb+j0+nb]
		var r1 []float32
		if 2*q+1 < kb {
			r1 = p.b[(p0+2*q+1)*p.ldb+j0 : (p0+2*q+1)*p.ldb+j0+nb]
		}
		pairRows(panel[q*bf16NR:q*bf16NR+nb], r0, r1)
	}
}

// bf16Pool holds packing buffers (uint32 bf16 pairs) and edge tiles.
var bf16Pool = sync.Pool{New: func() any { return new(bf16Buffers) }}

type bf16Buffers struct {
	a, t []uint32 // a packed A block; a conversion scratch
	tmp  []float32
}

// get returns b with room for n packed values, t values of scratch and an mr×32 tile.
func (b *bf16Buffers) get(n, t, mr int) *bf16Buffers {
	if len(b.a) < n {
		b.a = make([]uint32, n)
	}
	if len(b.t) < t {
		b.t = make([]uint32, t)
	}
	if len(b.tmp) < mr*bf16NR {
		b.tmp = make([]float32, mr*bf16NR)
	}
	return b
}

// bf16Shared is the packed op(B) block of a product; pooled.
var bf16SharedPool = sync.Pool{New: func() any { return new([]uint32) }}

// gemm runs one product with K blocks of kc (even) on up to workers goroutines.
func (kn *bf16Kernel) gemm(p *problem, kc, workers int) {
	m, n, k := p.m, p.n, p.k
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !p.accumulate {
			for i := range m {
				clear(p.c[i*p.ldc : i*p.ldc+n])
			}
		}
		return
	}
	if 2*float64(m)*float64(n)*float64(k) < parallelMinFlops {
		workers = 1
	}
	kc = kBlock(k, kc, p.transA)
	if splitsK(p, kc, workers) {
		splitK(p, kc, workers, func(sub *problem) { kn.gemm(sub, kc, 1) })
		return
	}
	_, mc, nc := bf16Blocks(kn.mr, machineCaches)
	mr := kn.mr
	kpMax := (min(kc, k) + 1) / 2
	nbMax := min(nc, roundUp(n, bf16NR))
	bp := bf16SharedPool.Get().(*[]uint32)
	if len(*bp) < kpMax*nbMax {
		*bp = make([]uint32, kpMax*nbMax)
	}
	packed := *bp
	// Rows per task: about three tasks per worker, whole panels, at most mc.
	// (a transposed A is read across its rows: tasks of whole cache lines of them, 16 floats,
	// so that no two workers pack from the same lines)
	align := mr
	if p.transA && workers > 1 {
		align = max(mr, 16)
	}
	rowStep := min(mc, max(align, roundUp((m+3*workers-1)/(3*workers), align)))
	tasks := (m + rowStep - 1) / rowStep
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		panels := (nb + bf16NR - 1) / bf16NR
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			kp := (kb + 1) / 2
			acc := p.accumulate || pc > 0
			parallel.For(panels, min(workers, panels), func(lo, hi int) {
				buf := bf16Pool.Get().(*bf16Buffers).get(0, bf16NR*kpMax, mr)
				for jp := lo; jp < hi; jp++ {
					packBBF16(p, pc, kb, jc+jp*bf16NR, min(bf16NR, nb-jp*bf16NR), packed[jp*bf16NR*kp:], buf.t)
				}
				bf16Pool.Put(buf)
			})
			parallel.For(tasks, min(workers, tasks), func(lo, hi int) {
				buf := bf16Pool.Get().(*bf16Buffers).get(roundUp(rowStep, mr)*kpMax, 8*kpMax, mr)
				for t := lo; t < hi; t++ {
					i0 := t * rowStep
					mb := min(rowStep, m-i0)
					packABF16(p, i0, mb, pc, kb, mr, buf.a, buf.t)
					for jp := range panels {
						b := packed[jp*bf16NR*kp : (jp+1)*bf16NR*kp]
						cols := min(bf16NR, nb-jp*bf16NR)
						for ir := 0; ir < mb; ir += mr {
							c := p.c[(i0+ir)*p.ldc+jc+jp*bf16NR:]
							kn.tile(kp, buf.a[ir*kp:(ir+mr)*kp], b, c, p.ldc, acc, min(mr, mb-ir), cols, buf.tmp)
						}
					}
				}
				bf16Pool.Put(buf)
			})
		}
	}
	bf16SharedPool.Put(bp)
}

// tile computes rows×cols of C from one A and one B panel: in place when the tile is whole,
// else into tmp and then copied or added (c + sum, the kernel's own last operation).
func (kn *bf16Kernel) tile(kp int, a, b []uint32, c []float32, ldc int, acc bool, rows, cols int, tmp []float32) {
	if rows == kn.mr && cols == bf16NR {
		kn.fn(kp, a, b, c, ldc, acc)
		return
	}
	kn.fn(kp, a, b, tmp, bf16NR, false)
	for i := range rows {
		crow := c[i*ldc : i*ldc+cols]
		trow := tmp[i*bf16NR : i*bf16NR+cols]
		if acc {
			for j, v := range trow {
				crow[j] += v
			}
		} else {
			copy(crow, trow)
		}
	}
}

// bf16KC is the most a K block of the bf16 products takes on this machine (even).
var bf16KC, _, _ = bf16Blocks(8, machineCaches)
