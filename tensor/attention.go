package tensor

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/internal/vecmath"
)

// Fused causal self-attention. Composed from separate ops, attention splits the fused q/k/v
// projection, permutes each part into heads, scales, masks and normalises the scores and permutes
// the result back, copying (B, T, C)-sized data at nearly every step and again in the backward
// pass. Here the batched matrix products read q, k and v in place from the projection (each head
// is a strided block of it) and write the output straight into (B, T, C) layout.
//
// Legend: B batch, T time, C channels, NH heads, HS = C/NH head size.

// attentionDims checks qkv (B, T, 3C) against nHead and returns the sizes.
func attentionDims(op string, qkv *Tensor, nHead int) (b, t, c, hs int) {
	if len(qkv.shape) != 3 || qkv.shape[2]%3 != 0 || nHead <= 0 || (qkv.shape[2]/3)%nHead != 0 {
		panic(fmt.Sprintf("tensor.%s: want qkv (B, T, 3C) with C divisible by %d heads, got %v", op, nHead, qkv.shape))
	}
	b, t, c = qkv.shape[0], qkv.shape[1], qkv.shape[2]/3
	return b, t, c, c / nHead
}

// headOffsets returns, for every (batch, head) pair, the offsets of a product whose A and B are
// head blocks of qkv (or of a (B, T, C) tensor) and whose C is one (T, T) score matrix, or the
// reverse. Each argument maps (batch, head) to an offset.
func headOffsets(b, nh int, a, bb, c func(bi, h int) int) []gemm.BatchOffsets {
	offs := make([]gemm.BatchOffsets, 0, b*nh)
	for bi := range b {
		for h := range nh {
			offs = append(offs, gemm.BatchOffsets{A: a(bi, h), B: bb(bi, h), C: c(bi, h)})
		}
	}
	return offs
}

// headLayout returns where head h of batch entry bi starts: its q, k and v blocks in qkv
// (B, T, 3C), its (T, T) score matrix in (B, NH, T, T), and its columns in the output (B, T, C).
func headLayout(t, c, hs, nHead int) (q, k, v, score, out func(bi, h int) int) {
	c3 := 3 * c
	q = func(bi, h int) int { return bi*t*c3 + h*hs }
	k = func(bi, h int) int { return bi*t*c3 + c + h*hs }
	v = func(bi, h int) int { return bi*t*c3 + 2*c + h*hs }
	score = func(bi, h int) int { return (bi*nHead + h) * t * t }
	out = func(bi, h int) int { return bi*t*c + h*hs }
	return q, k, v, score, out
}

// rowBlock is a range [lo, hi) of query positions.
type rowBlock struct{ lo, hi int }

// causalBlocks splits T positions into blocks of rows for the causal products. Row i of a score
// matrix has entries only up to column i, so a block of rows [lo, hi) needs columns [0, hi):
// with up to 4 blocks of at least 32 rows the products skip a quarter to a third of the work
// above the diagonal, and each block stays a multiple of the micro-kernels' 8 rows and large
// enough to repay packing its operands (smaller blocks were slower: on a Zen 4 core, with
// nanoGPT's CPU config, one block took 1.61 ms per forward and backward, 2 blocks of 32 rows
// 1.43 ms, 4 blocks of 16 rows 1.67 ms; BenchmarkCausalAttention). Skipped terms are exact zeros
// (0·x added to a sum leaves it unchanged), so the results are those of the full products.
func causalBlocks(t int) []rowBlock {
	size := max(32, (t/4+7)&^7)
	var blocks []rowBlock
	for lo := 0; lo < t; lo += size {
		blocks = append(blocks, rowBlock{lo, min(lo+size, t)})
	}
	return blocks
}

// shift returns at's offsets moved by d elements.
func shift(at func(bi, h int) int, d int) func(bi, h int) int {
	return func(bi, h int) int { return at(bi, h) + d }
}

// CausalAttention computes multi-head causal self-attention from a fused projection qkv
// (B, T, 3C) holding q, k and v side by side: for each head, softmax(q·kᵀ/√HS, masked so that
// position i sees positions ≤ i)·v. It returns y (B, T, C), heads side by side as GPT-2 lays
// them out, and the attention weights p (B, NH, T, T), which the backward pass needs.
func CausalAttention(qkv *Tensor, nHead int) (y, p *Tensor) {
	b, t, c, hs := attentionDims("CausalAttention", qkv, nHead)
	d := qkv.Contiguous().Data()
	c3 := 3 * c
	p = uninit(b, nHead, t, t)
	y = uninit(b, t, c)
	q, k, v, score, out := headLayout(t, c, hs, nHead)

	// scores (T, T) = q·kᵀ per head, by blocks of rows: rows [r0, r1) need keys [0, r1) only
	blocks := causalBlocks(t)
	for _, r := range blocks {
		gemm.SgemmBatched(false, true, r.hi-r.lo, r.hi, hs, d, c3, d, c3, p.data, t,
			headOffsets(b, nHead, shift(q, r.lo*c3), k, shift(score, r.lo*t)), false)
	}
	// scale, mask and normalise each row: row i keeps its first i+1 entries
	scale := float32(1 / math.Sqrt(float64(hs)))
	rows := b * nHead * t
	parallelFor(rows, t*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i := r % t
			row := p.data[r*t : (r+1)*t]
			vis := row[:i+1]
			vecmath.Scale(vis, vis, scale)
			vecmath.SoftmaxRow(vis, vis)
			clear(row[i+1:])
		}
	})
	// y (T, HS) per head = p·v, written into its columns of (B, T, C); rows [r0, r1) of p are
	// zero past column r1, so only values [0, r1) take part
	for _, r := range blocks {
		gemm.SgemmBatched(false, false, r.hi-r.lo, hs, r.hi, p.data, t, d, c3, y.data, c,
			headOffsets(b, nHead, shift(score, r.lo*t), v, shift(out, r.lo*c)), false)
	}
	return y, p
}

// CausalAttentionBackward returns the gradient with respect to qkv (B, T, 3C), given the output
// gradient dy (B, T, C), the input qkv and the weights p that CausalAttention returned. With
// S the scaled scores: dV = pᵀ·dy, dp = dy·vᵀ, dS = p·(dp − Σ p·dp), dQ = dS·k/√HS,
// dK = dSᵀ·q/√HS.
func CausalAttentionBackward(dy, qkv, p *Tensor, nHead int) *Tensor {
	b, t, c, hs := attentionDims("CausalAttentionBackward", qkv, nHead)
	if !sameShape(dy.shape, []int{b, t, c}) || !sameShape(p.shape, []int{b, nHead, t, t}) {
		panic(fmt.Sprintf("tensor.CausalAttentionBackward: dy %v and p %v do not fit qkv %v with %d heads", dy.shape, p.shape, qkv.shape, nHead))
	}
	d := qkv.Contiguous().Data()
	g := dy.Contiguous().Data()
	pd := p.Contiguous().Data()
	c3 := 3 * c
	dqkv := uninit(b, t, c3) // dV, dQ and dK each write their third
	ds := uninit(b, nHead, t, t)
	q, k, v, score, out := headLayout(t, c, hs, nHead)

	blocks := causalBlocks(t)
	// dV = pᵀ·dy: rows [r0, r1) of dV gather from positions [r0, T) only (p is zero above its
	// diagonal)
	for _, r := range blocks {
		gemm.SgemmBatched(true, false, r.hi-r.lo, hs, t-r.lo, pd, t, g, c, dqkv.data, c3,
			headOffsets(b, nHead, shift(score, r.lo*t+r.lo), shift(out, r.lo*c), shift(v, r.lo*c3)), false)
	}
	// dp = dy·vᵀ on and below the diagonal, by blocks of rows as for the scores, then
	// dS = p·(dp − Σ p·dp)·scale in place (masked entries have p = 0)
	for _, r := range blocks {
		gemm.SgemmBatched(false, true, r.hi-r.lo, r.hi, hs, g, c, d, c3, ds.data, t,
			headOffsets(b, nHead, shift(out, r.lo*c), v, shift(score, r.lo*t)), false)
	}
	scale := float32(1 / math.Sqrt(float64(hs)))
	rows := b * nHead * t
	parallelFor(rows, t*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i := r % t
			pr, dr := pd[r*t:r*t+i+1], ds.data[r*t:(r+1)*t]
			dot := float32(vecmath.Dot(pr, dr[:i+1]))
			vecmath.SubScale(dr[:i+1], dr[:i+1], dot, scale) // (dp − Σ p·dp)·scale
			vecmath.Mul(dr[:i+1], dr[:i+1], pr)              // ·p
			clear(dr[i+1:])
		}
	})
	// dQ = dS·k and dK = dSᵀ·q, skipping dS's zeros above the diagonal as p·v and pᵀ·dy do
	for _, r := range blocks {
		gemm.SgemmBatched(false, false, r.hi-r.lo, hs, r.hi, ds.data, t, d, c3, dqkv.data, c3,
			headOffsets(b, nHead, shift(score, r.lo*t), k, shift(q, r.lo*c3)), false)
		gemm.SgemmBatched(true, false, r.hi-r.lo, hs, t-r.lo, ds.data, t, d, c3, dqkv.data, c3,
			headOffsets(b, nHead, shift(score, r.lo*t+r.lo), shift(q, r.lo*c3), shift(k, r.lo*c3)), false)
	}
	release(ds)
	return dqkv
}
