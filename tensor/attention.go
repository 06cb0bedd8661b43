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

	// scores (T, T) = q·kᵀ per head
	gemm.SgemmBatched(false, true, t, t, hs, d, c3, d, c3, p.data, t, headOffsets(b, nHead, q, k, score), false)
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
	// y (T, HS) per head = p·v, written into its columns of (B, T, C)
	gemm.SgemmBatched(false, false, t, hs, t, p.data, t, d, c3, y.data, c, headOffsets(b, nHead, score, v, out), false)
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

	// dV = pᵀ·dy
	gemm.SgemmBatched(true, false, t, hs, t, pd, t, g, c, dqkv.data, c3, headOffsets(b, nHead, score, out, v), false)
	// dp = dy·vᵀ, then dS = p·(dp − Σ p·dp)·scale in place (masked entries have p = 0)
	gemm.SgemmBatched(false, true, t, t, hs, g, c, d, c3, ds.data, t, headOffsets(b, nHead, out, v, score), false)
	scale := float32(1 / math.Sqrt(float64(hs)))
	rows := b * nHead * t
	parallelFor(rows, t*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i := r % t
			pr, dr := pd[r*t:r*t+i+1], ds.data[r*t:(r+1)*t]
			dot := float32(vecmath.Dot(pr, dr[:i+1]))
			for j, pj := range pr {
				dr[j] = pj * (dr[j] - dot) * scale
			}
			clear(dr[i+1:])
		}
	})
	// dQ = dS·k and dK = dSᵀ·q
	gemm.SgemmBatched(false, false, t, hs, t, ds.data, t, d, c3, dqkv.data, c3, headOffsets(b, nHead, score, k, q), false)
	gemm.SgemmBatched(true, false, t, hs, t, ds.data, t, d, c3, dqkv.data, c3, headOffsets(b, nHead, score, q, k), false)
	release(ds)
	return dqkv
}
