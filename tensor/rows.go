package tensor

import (
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/internal/vecmath"
)

// Row kernels: the ops of one position's forward pass on the caller's own buffers, for a decoding
// step that keeps its activations in a few reused slices rather than in a fresh tensor per op
// (nn.Block.StepRow). A SmolLM2-shaped step runs some 900 ops a token; as tensors and autograd
// records they took 3,400 small allocations and 1.5 ms a token on top of the matrix products. Each
// row kernel is the loop body of its tensor op, which calls it, so the two agree bit for bit.
// Legend: C channels, N outputs, NH query heads, NKV key/value heads, HS head size, Tk keys.

// RMSNormRow sets dst (C) to RMSNorm of one row x (C) with weight w (C), and returns the row's
// rstd. dst may be x.
func RMSNormRow(dst, x, w []float32, eps float32) float32 {
	checkRow("RMSNormRow", len(dst), len(x), len(w))
	rf := float32(1 / math.Sqrt(vecmath.Dot(x, x)/float64(len(x))+float64(eps)))
	vecmath.ScaleMulAdd(dst, x, w, nil, rf) // (x·rstd)·w, rounded as Hugging Face does
	return rf
}

// LayerNormRow sets dst (C) to LayerNorm of one row x (C) with weight w and bias b (C, or nil),
// and returns the row's mean and rstd. dst must not be x.
func LayerNormRow(dst, x, w, b []float32, eps float32) (mean, rstd float32) {
	checkRow("LayerNormRow", len(dst), len(x), len(w))
	if b != nil {
		checkRow("LayerNormRow", len(dst), len(b))
	}
	c := len(x)
	mf := float32(vecmath.Sum(x) / float64(c))
	vecmath.SubScale(dst, x, mf, 1) // x − mean (the product by 1 is exact)
	rf := float32(1 / math.Sqrt(vecmath.Dot(dst, dst)/float64(c)+float64(eps)))
	vecmath.ScaleMulAdd(dst, dst, w, b, rf) // ((x − mean)·rstd)·w + b
	return mf, rf
}

// RopeRow rotates the heads of one position's queries or keys x (NH·HS) into dst by position
// pos, with the tables Rope takes. dst must not be x.
func RopeRow(dst, x []float32, heads int, cos, sin *Tensor, pos int) {
	checkRow("RopeRow", len(dst), len(x))
	if heads <= 0 || len(x)%heads != 0 || len(cos.shape) != 2 || 2*cos.shape[1] != len(x)/heads || pos < 0 || pos >= cos.shape[0] {
		panic(fmt.Sprintf("tensor.RopeRow: %d values in %d heads at position %d with tables %v", len(x), heads, pos, cos.shape))
	}
	half := cos.shape[1]
	cd, sd := cos.Contiguous().Data(), sin.Contiguous().Data()
	ropeHeads(dst, x, cd[pos*half:(pos+1)*half], sd[pos*half:(pos+1)*half], heads, 1)
}

// ropeHeads rotates the heads heads of src into dst by the angles whose cos and sin are c and s
// (HS/2 each), sign −1 turning them back.
func ropeHeads(dst, src, c, s []float32, heads int, sign float32) {
	half := len(c)
	hs := 2 * half
	for h := range heads {
		xr, d := src[h*hs:(h+1)*hs], dst[h*hs:(h+1)*hs]
		x1, x2 := xr[:half], xr[half:]
		d1, d2 := d[:half], d[half:]
		for i := range half {
			si := sign * s[i]
			d1[i] = float32(x1[i]*c[i]) - float32(x2[i]*si)
			d2[i] = float32(x2[i]*c[i]) + float32(x1[i]*si)
		}
	}
}

// SiLUMulRow sets dst to silu(gate)·up element-wise, as SiLUMul does (in the same blocks, shared
// among the workers the same way). dst must not be gate or up.
func SiLUMulRow(dst, gate, up []float32) {
	checkRow("SiLUMulRow", len(dst), len(gate), len(up))
	if n := len(dst); Workers() <= 1 || n*siluCost < minParallelWork { // forBlocks' serial path, without a closure
		var sig [siluBlock]float32
		for b := 0; b < n; b += siluBlock {
			e := min(b+siluBlock, n)
			siluMulBlock(dst[b:e], gate[b:e], up[b:e], sig[:e-b])
		}
		return
	}
	forBlocks(len(dst), func(lo, hi int, sig []float32) { siluMulBlock(dst[lo:hi], gate[lo:hi], up[lo:hi], sig) })
}

// siluMulBlock is SiLUMul on one block, the sigmoids in sig.
func siluMulBlock(dst, gate, up, sig []float32) {
	sigmoidInto(sig, gate)
	vecmath.Mul(sig, gate, sig) // silu(gate)
	vecmath.Mul(dst, sig, up)
}

// MulRowT sets dst (M·N) to x·wᵀ + bias for the M rows of x (M·K), w (N, K) and bias (N, or
// nil): what MatMulT and Affine compute for those rows (bias first, the product added onto it).
func MulRowT(dst, x []float32, w *Tensor, bias []float32) {
	if len(w.shape) != 2 || w.shape[1] == 0 || len(x)%w.shape[1] != 0 || len(dst) != len(x)/w.shape[1]*w.shape[0] || (bias != nil && len(bias) != w.shape[0]) {
		panic(fmt.Sprintf("tensor.MulRowT: x (%d), w %v, bias (%d) into (%d)", len(x), w.shape, len(bias), len(dst)))
	}
	n, k := w.shape[0], w.shape[1]
	m := len(x) / k
	if n == 0 || m == 0 {
		return
	}
	pw := prepare(w, true)
	if bias != nil {
		for i := range m {
			copy(dst[i*n:(i+1)*n], bias)
		}
	}
	sgemm(false, pw.trans, m, n, k, x, k, pw.t.data[pw.t.offset:], pw.ld, dst, n, bias != nil)
}

// MulRowsT is MulRowT for several weight matrices ws[i] (N_i, K) that read the same rows x:
// dsts[i] = x·ws[i]ᵀ + biases[i] (a bias may be nil). For one row in float32 their products run as one job
// (gemm.SgemvTGroup: one hand-off, one stream of weights), with MulRowT's results bit for bit.
func MulRowsT(dsts [][]float32, x []float32, ws []*Tensor, biases [][]float32) {
	if len(dsts) != len(ws) || len(biases) != len(ws) {
		panic(fmt.Sprintf("tensor.MulRowsT: %d outputs, %d matrices, %d biases", len(dsts), len(ws), len(biases)))
	}
	grouped := MatMulPrecision() == Float32 && len(ws) > 1 && len(x) > 0
	prepared := make([]matOperand, len(ws))
	for i, w := range ws {
		grouped = grouped && len(w.shape) == 2 && w.shape[0] > 0 && len(x) == w.shape[1]
		if grouped {
			prepared[i] = prepare(w, true) // B transposed, read row by row, unless stored otherwise
			grouped = prepared[i].trans
		}
	}
	if !grouped {
		for i, w := range ws {
			MulRowT(dsts[i], x, w, biases[i])
		}
		return
	}
	ps := make([]gemm.RowProduct, len(ws))
	for i, w := range ws {
		if len(x) != w.shape[1] || len(dsts[i]) != w.shape[0] || (biases[i] != nil && len(biases[i]) != len(dsts[i])) {
			panic(fmt.Sprintf("tensor.MulRowsT: x (%d), w %v, bias (%d) into (%d)", len(x), w.shape, len(biases[i]), len(dsts[i])))
		}
		pw := prepared[i]
		if biases[i] != nil {
			copy(dsts[i], biases[i])
		}
		ps[i] = gemm.RowProduct{B: pw.t.data[pw.t.offset:], N: w.shape[0], Ldb: pw.ld, C: dsts[i], Accumulate: biases[i] != nil}
	}
	gemm.SgemvTGroup(len(x), x, ps)
}

// AttendRows sets each row r of y (B·NH·HS) to the attention of one position's queries, row r
// of q (B·NH·HS), over the first tks[r] rows of keys k and values v from offset r·rowStride
// (rows ld apart, NKV·HS used of each: a KV cache of B rows, each query's own position last), as
// Attention computes a causal query at the last position. The KV heads of all the rows are
// shared among the workers as one job.
func AttendRows(y, q, k, v []float32, rowStride, ld int, tks []int, heads, kvHeads int) {
	b := len(tks)
	if b == 0 || heads <= 0 || kvHeads <= 0 || heads%kvHeads != 0 || len(q)%(b*heads) != 0 || len(y) != len(q) {
		panic(fmt.Sprintf("tensor.AttendRows: q (%d) for %d rows of %d heads, %d KV heads, into (%d)", len(q), b, heads, kvHeads, len(y)))
	}
	hs, g := len(q)/(b*heads), heads/kvHeads
	tmax := 0
	for r, tk := range tks {
		if tk <= 0 || ld < kvHeads*hs || len(k) < r*rowStride+(tk-1)*ld+kvHeads*hs || len(v) < r*rowStride+(tk-1)*ld+kvHeads*hs {
			panic(fmt.Sprintf("tensor.AttendRows: row %d: %d keys %d apart from %d in (%d), (%d), %d KV heads of %d", r, tk, ld, r*rowStride, len(k), len(v), kvHeads, hs))
		}
		tmax = max(tmax, tk)
	}
	scale := float32(1 / math.Sqrt(float64(hs)))
	// shared by KV head: the g query heads that read one KV head's keys and values run on one
	// worker, so that the cache rows come from memory once (the stream of weights evicts them
	// between layers) and from L1 or L2 for the other g − 1
	parallelFor(b*kvHeads, 4*g*tmax*hs, func(lo, hi int) {
		scratch := scoreRows.Get().(*[]float32)
		defer scoreRows.Put(scratch)
		if cap(*scratch) < tmax {
			*scratch = make([]float32, tmax+tmax/2)
		}
		for grp := lo; grp < hi; grp++ {
			r, j := grp/kvHeads, grp%kvHeads
			tk := tks[r]
			row := (*scratch)[:tk]
			kr, vr := k[r*rowStride+j*hs:], v[r*rowStride+j*hs:]
			for h := j * g; h < (j+1)*g; h++ {
				at := (r*heads + h) * hs
				gemm.QueryScores(q[at:at+hs], kr, ld, row)
				vecmath.SoftmaxScaledRow(row, scale)
				gemm.WeightedRows(row, vr, ld, y[at:at+hs])
			}
		}
	})
}

// checkRow panics unless every length equals the first. (The message takes a copy, so that the
// lengths stay on the caller's stack: a decoding step makes some 200 such calls.)
func checkRow(op string, lens ...int) {
	for _, n := range lens[1:] {
		if n != lens[0] {
			panic(fmt.Sprintf("tensor.%s: row lengths differ: %v", op, slices.Clone(lens)))
		}
	}
}

// GELURow sets dst to GELU of x element-wise, the exact form or GPT-2's tanh approximation, in
// the pieces GELU and GELUTanh give their kernel.
func GELURow(dst, x []float32, tanh bool) {
	checkRow("GELURow", len(dst), len(x))
	f := vecmath.GELU
	if tanh {
		f = vecmath.GELUTanh
	}
	if Workers() <= 1 || len(x)*4 < minParallelWork { // mapSlices' serial path, without a closure
		f(dst, x)
		return
	}
	parallelFor(len(x), 4, func(lo, hi int) { f(dst[lo:hi], x[lo:hi]) })
}

// ReLURow sets dst to max(x, 0) element-wise.
func ReLURow(dst, x []float32) {
	checkRow("ReLURow", len(dst), len(x))
	for i, v := range x {
		dst[i] = max(v, 0)
	}
}

// AddRow adds y into x element-wise (x += y), as Add rounds it: a residual connection.
func AddRow(x, y []float32) {
	checkRow("AddRow", len(x), len(y))
	vecmath.Add(x, x, y)
}
