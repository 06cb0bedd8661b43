package tensor

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/internal/vecmath"
)

// Fused multi-head attention whose queries and keys/values may come from different sequences
// (an encoder–decoder's cross-attention), with an optional causal mask and key-padding mask.
// Like CausalAttention, the batched products read each head as a strided block of q, k and v,
// which may be slices of a fused projection (Narrow of a (B, T, 3C) tensor) read in place, and
// write the output straight into (B, Tq, C).
//
// Legend: B batch, Tq query positions, Tk key positions, C channels, NH heads, HS = C/NH.

// rows3 is a (B, T, C) operand whose last axis is contiguous: element (b, t, c) sits at
// off + b·bs + t·ld + c in data.
type rows3 struct {
	data        []float32
	off, bs, ld int
}

// asRows3 returns t as rows3, copying it to contiguous first if its last axis is strided.
func asRows3(t *Tensor) rows3 {
	if t.strides[2] != 1 && t.shape[2] > 1 {
		t = t.Contiguous()
	}
	ld := t.strides[1]
	if t.shape[1] <= 1 || ld < t.shape[2] {
		if t.shape[1] > 1 {
			t = t.Contiguous()
		}
		ld = max(t.strides[1], t.shape[2])
	}
	return rows3{data: t.data, off: t.offset, bs: t.strides[0], ld: ld}
}

// at returns the offset of head h of batch entry b.
func (r rows3) at(b, h, hs int) int { return r.off + b*r.bs + h*hs }

// mhaDims checks the operands of Attention and returns the sizes.
func mhaDims(op string, q, k, v *Tensor, nHead int) (b, tq, tk, c, hs int) {
	ok := len(q.shape) == 3 && len(k.shape) == 3 && sameShape(k.shape, v.shape) &&
		q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2] && nHead > 0 && q.shape[2]%nHead == 0
	if !ok {
		panic(fmt.Sprintf("tensor.%s: want q (B, Tq, C), k and v (B, Tk, C) with C divisible by %d heads, got %v %v %v",
			op, nHead, q.shape, k.shape, v.shape))
	}
	b, tq, tk, c = q.shape[0], q.shape[1], k.shape[1], q.shape[2]
	return b, tq, tk, c, c / nHead
}

// Attention computes multi-head scaled dot-product attention: for each head,
// softmax(q·kᵀ/√HS)·v, with q (B, Tq, C) and k, v (B, Tk, C), heads side by side along C (as
// PyTorch's nn.MultiheadAttention lays them out). With causal set, query i sees keys
// j ≤ i + Tk − Tq (the queries are the last Tq of Tk positions, as when earlier keys come from a
// cache). keyPad, if not nil, holds B·Tk flags: a key whose flag is true is seen by no query.
// A query that sees no key at all gets a zero output (PyTorch would give NaN).
//
// It returns y (B, Tq, C) and the attention weights p (B, NH, Tq, Tk), which the backward pass
// needs (masked weights are exactly 0).
func Attention(q, k, v *Tensor, nHead int, causal bool, keyPad []bool) (y, p *Tensor) {
	b, tq, tk, c, hs := mhaDims("Attention", q, k, v, nHead)
	if keyPad != nil && len(keyPad) != b*tk {
		panic(fmt.Sprintf("tensor.Attention: %d key-padding flags for %d × %d keys", len(keyPad), b, tk))
	}
	if causal && tk < tq {
		panic(fmt.Sprintf("tensor.Attention: causal attention needs Tk >= Tq, got Tq %d, Tk %d", tq, tk))
	}
	rq, rk, rv := asRows3(q), asRows3(k), asRows3(v)
	p = uninit(b, nHead, tq, tk)
	y = uninit(b, tq, c)
	if p.Size() == 0 || y.Size() == 0 {
		clear(y.data)
		return y, p
	}
	score := func(bi, h int) int { return (bi*nHead + h) * tq * tk }
	out := func(bi, h int) int { return bi*tq*c + h*hs }
	at := func(r rows3) func(bi, h int) int { return func(bi, h int) int { return r.at(bi, h, hs) } }

	// scores (Tq, Tk) = q·kᵀ per head
	gemm.SgemmBatched(false, true, tq, tk, hs, rq.data, rq.ld, rk.data, rk.ld, p.data, tk,
		headOffsets(b, nHead, at(rq), at(rk), score), false)
	scale := float32(1 / math.Sqrt(float64(hs)))
	negInf := float32(math.Inf(-1))
	parallelFor(b*nHead*tq, tk*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i, bi := r%tq, r/(nHead*tq)
			row := p.data[r*tk : (r+1)*tk]
			lim := tk
			if causal {
				lim = i + tk - tq + 1
			}
			vis := row[:lim]
			vecmath.Scale(vis, vis, scale)
			seen := lim
			if keyPad != nil {
				for j, padded := range keyPad[bi*tk : bi*tk+lim] {
					if padded {
						vis[j] = negInf
						seen--
					}
				}
			}
			if seen == 0 {
				clear(row)
				continue
			}
			vecmath.SoftmaxRow(vis, vis)
			clear(row[lim:])
		}
	})
	// y (Tq, HS) per head = p·v, written into its columns of (B, Tq, C)
	gemm.SgemmBatched(false, false, tq, hs, tk, p.data, tk, rv.data, rv.ld, y.data, c,
		headOffsets(b, nHead, score, at(rv), out), false)
	return y, p
}

// AttentionBackward returns the gradients with respect to q, k and v (contiguous, shaped like
// them), given the output gradient dy (B, Tq, C), the inputs and the weights p that Attention
// returned. With S the scaled scores: dV = pᵀ·dy, dp = dy·vᵀ, dS = p·(dp − Σ p·dp),
// dQ = dS·k/√HS, dK = dSᵀ·q/√HS. Masked weights are 0, so masked scores get no gradient without
// the masks being passed again.
func AttentionBackward(dy, q, k, v, p *Tensor, nHead int) (dq, dk, dv *Tensor) {
	b, tq, tk, c, hs := mhaDims("AttentionBackward", q, k, v, nHead)
	if !sameShape(dy.shape, []int{b, tq, c}) || !sameShape(p.shape, []int{b, nHead, tq, tk}) {
		panic(fmt.Sprintf("tensor.AttentionBackward: dy %v and p %v do not fit q %v, k %v with %d heads", dy.shape, p.shape, q.shape, k.shape, nHead))
	}
	rq, rk, rv := asRows3(q), asRows3(k), asRows3(v)
	g := dy.Contiguous().data
	pd := p.Contiguous().data
	dq, dk, dv = uninit(b, tq, c), uninit(b, tk, c), uninit(b, tk, c)
	if tq == 0 || tk == 0 || c == 0 {
		clear(dq.data)
		clear(dk.data)
		clear(dv.data)
		return dq, dk, dv
	}
	ds := uninit(b, nHead, tq, tk)
	score := func(bi, h int) int { return (bi*nHead + h) * tq * tk }
	qOut := func(bi, h int) int { return bi*tq*c + h*hs }
	kOut := func(bi, h int) int { return bi*tk*c + h*hs }
	at := func(r rows3) func(bi, h int) int { return func(bi, h int) int { return r.at(bi, h, hs) } }

	// dV = pᵀ·dy
	gemm.SgemmBatched(true, false, tk, hs, tq, pd, tk, g, c, dv.data, c, headOffsets(b, nHead, score, qOut, kOut), false)
	// dp = dy·vᵀ, then dS = p·(dp − Σ p·dp)·scale in place
	gemm.SgemmBatched(false, true, tq, tk, hs, g, c, rv.data, rv.ld, ds.data, tk, headOffsets(b, nHead, qOut, at(rv), score), false)
	scale := float32(1 / math.Sqrt(float64(hs)))
	parallelFor(b*nHead*tq, tk*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			pr, dr := pd[r*tk:(r+1)*tk], ds.data[r*tk:(r+1)*tk]
			dot := float32(vecmath.Dot(pr, dr))
			for j, pj := range pr {
				dr[j] = pj * (dr[j] - dot) * scale
			}
		}
	})
	// dQ = dS·k and dK = dSᵀ·q
	gemm.SgemmBatched(false, false, tq, hs, tk, ds.data, tk, rk.data, rk.ld, dq.data, c, headOffsets(b, nHead, score, at(rk), qOut), false)
	gemm.SgemmBatched(true, false, tk, hs, tq, ds.data, tk, rq.data, rq.ld, dk.data, c, headOffsets(b, nHead, score, at(rq), kOut), false)
	release(ds)
	return dq, dk, dv
}
