package tensor

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/internal/vecmath"
)

// Fused multi-head attention, the one kernel under every attention layer (nn.Attention's plain
// composition, nn.Attend, is its reference and what to read first). Composed from separate ops,
// attention permutes q, k and v into heads, scales, masks and normalises the scores and permutes
// the result back, copying (B, T, C)-sized data at nearly every step and again in the backward
// pass. Here the batched matrix products read each head in place as a strided block of q, k and
// v, which may be slices of one fused projection (Narrow of a (B, T, W) tensor) or of a KV
// cache with room to grow, and write the output straight into (B, Tq, NH·HS).
//
// Legend: B batch, Tq query positions, Tk key positions, NH query heads, NKV key/value heads
// (NH a multiple of it: query head h reads KV head h / (NH/NKV)), HS head size.

// Attn describes one attention computation besides its operands.
type Attn struct {
	Heads   int // NH
	KVHeads int // NKV; 0 means Heads
	// Causal hides from query i the keys after position i + Tk − Tq: the queries are the last
	// Tq of Tk positions (earlier keys may come from a cache).
	Causal bool
	// KeyPad holds B·Tk flags, row-major; a key whose flag is true (padding) is seen by no
	// query. nil: every key is seen.
	KeyPad []bool
}

func (a Attn) kvHeads() int {
	if a.KVHeads == 0 {
		return a.Heads
	}
	return a.KVHeads
}

// rows3 is a (B, T, W) operand whose last axis is contiguous: element (b, t, c) sits at
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

// at returns the offset of head h of batch entry b, position t.
func (r rows3) at(b, h, hs, t int) int { return r.off + b*r.bs + t*r.ld + h*hs }

// attnDims checks the operands and returns the sizes.
func attnDims(op string, q, k, v *Tensor, a Attn) (b, tq, tk, nh, nkv, hs int) {
	nh, nkv = a.Heads, a.kvHeads()
	ok := len(q.shape) == 3 && len(k.shape) == 3 && sameShape(k.shape, v.shape) &&
		q.shape[0] == k.shape[0] && nh > 0 && nkv > 0 && nh%nkv == 0 && q.shape[2]%nh == 0 &&
		k.shape[2] == nkv*(q.shape[2]/nh)
	if !ok {
		panic(fmt.Sprintf("tensor.%s: want q (B, Tq, NH·HS), k and v (B, Tk, NKV·HS) with %d heads and %d KV heads, got %v %v %v",
			op, nh, nkv, q.shape, k.shape, v.shape))
	}
	b, tq, tk = q.shape[0], q.shape[1], k.shape[1]
	if a.KeyPad != nil && len(a.KeyPad) != b*tk {
		panic(fmt.Sprintf("tensor.%s: %d key-padding flags for %d × %d keys", op, len(a.KeyPad), b, tk))
	}
	if a.Causal && tk < tq {
		panic(fmt.Sprintf("tensor.%s: causal attention needs Tk >= Tq, got Tq %d, Tk %d", op, tq, tk))
	}
	return b, tq, tk, nh, nkv, q.shape[2] / nh
}

// rowBlock is a range [lo, hi) of query or key positions.
type rowBlock struct{ lo, hi int }

// causalBlocks splits T positions into blocks of rows for the causal products. Row i of a score
// matrix has entries only up to column i, so a block of rows [lo, hi) needs columns [0, hi):
// with up to 4 blocks of at least 32 rows the products skip a quarter to a third of the work
// above the diagonal, and each block stays a multiple of the micro-kernels' 8 rows and large
// enough to repay packing its operands (smaller blocks were slower: on a Zen 4 core, with
// nanoGPT's CPU config, one block took 1.61 ms per forward and backward, 2 blocks of 32 rows
// 1.43 ms, 4 blocks of 16 rows 1.67 ms; BenchmarkAttention). Skipped terms are exact zeros
// (0·x added to a sum leaves it unchanged), so the results are those of the full products.
func causalBlocks(t int) []rowBlock {
	size := max(32, (t/4+7)&^7)
	var blocks []rowBlock
	for lo := 0; lo < t; lo += size {
		blocks = append(blocks, rowBlock{lo, min(lo+size, t)})
	}
	return blocks
}

// plan is one attention's layout: where each head's operands sit and which blocks of rows the
// causal mask lets the products skip.
type plan struct {
	b, tq, tk, nh, nkv, hs, past int
	q, k, v                      rows3
	qBlocks, kBlocks             []rowBlock // query rows; key rows (for pᵀ·…)
	causal                       bool
}

func newPlan(op string, q, k, v *Tensor, a Attn) *plan {
	b, tq, tk, nh, nkv, hs := attnDims(op, q, k, v, a)
	p := &plan{b: b, tq: tq, tk: tk, nh: nh, nkv: nkv, hs: hs, past: tk - tq, causal: a.Causal,
		q: asRows3(q), k: asRows3(k), v: asRows3(v)}
	p.qBlocks, p.kBlocks = []rowBlock{{0, tq}}, []rowBlock{{0, tk}}
	if a.Causal {
		p.qBlocks, p.kBlocks = causalBlocks(tq), causalBlocks(tk)
	}
	return p
}

// keys returns how many keys query row block r needs: those up to its last row's position.
func (p *plan) keys(r rowBlock) int {
	if !p.causal {
		return p.tk
	}
	return r.hi + p.past
}

// queries returns the first query that sees any key of block r (keys j are seen by queries
// i ≥ j − past).
func (p *plan) queries(r rowBlock) int {
	if !p.causal {
		return 0
	}
	return max(0, r.lo-p.past)
}

// offsets returns, for every (batch, head) pair, the offsets of one product; each argument
// maps (batch, query head) to an offset. The KV head of query head h is h / (NH/NKV).
func (p *plan) offsets(heads []int, a, bb, c func(bi, h int) int) []gemm.BatchOffsets {
	offs := make([]gemm.BatchOffsets, 0, p.b*len(heads))
	for bi := range p.b {
		for _, h := range heads {
			offs = append(offs, gemm.BatchOffsets{A: a(bi, h), B: bb(bi, h), C: c(bi, h)})
		}
	}
	return offs
}

// Operand offsets of query head h of batch entry bi at position t: q, its KV head's k and v, its
// (Tq, Tk) score matrix, and a (B, T, W) row tensor with heads side by side (dy, y, gradients).
func (p *plan) atQ(t int) func(bi, h int) int {
	return func(bi, h int) int { return p.q.at(bi, h, p.hs, t) }
}
func (p *plan) atK(r rows3, t int) func(bi, h int) int {
	g := p.nh / p.nkv
	return func(bi, h int) int { return r.at(bi, h/g, p.hs, t) }
}
func (p *plan) atScore(i, j int) func(bi, h int) int {
	return func(bi, h int) int { return ((bi*p.nh+h)*p.tq+i)*p.tk + j }
}
func (p *plan) atRow(t, ld, pos int, kv bool) func(bi, h int) int {
	g := 1
	if kv {
		g = p.nh / p.nkv
	}
	return func(bi, h int) int { return (bi*t+pos)*ld + h/g*p.hs }
}

// allHeads is [0, NH); groups splits it by position within a KV head's group: for g = NH/NKV,
// groups[j] holds the heads j, g+j, 2g+j, …, one per KV head, so that the products into a KV
// head's gradient of one group never overlap.
func (p *plan) allHeads() []int {
	hs := make([]int, p.nh)
	for i := range hs {
		hs[i] = i
	}
	return hs
}
func (p *plan) groups() [][]int {
	g := p.nh / p.nkv
	out := make([][]int, g)
	for h := range p.nh {
		out[h%g] = append(out[h%g], h)
	}
	return out
}

// Attention computes multi-head scaled dot-product attention: for each query head h,
// softmax(q·kᵀ/√HS)·v with its KV head's keys and values, q (B, Tq, NH·HS), k and v
// (B, Tk, NKV·HS), heads side by side along the last axis (GPT-2's and PyTorch's layout). Any of
// them may be a strided view whose last axis is contiguous. A query that sees no key at all
// gets a zero output (PyTorch would give NaN).
//
// It returns y (B, Tq, NH·HS) and the attention weights p (B, NH, Tq, Tk), which the backward
// pass needs (masked weights are exactly 0).
func Attention(q, k, v *Tensor, a Attn) (y, p *Tensor) {
	pl := newPlan("Attention", q, k, v, a)
	b, tq, tk, nh, hs := pl.b, pl.tq, pl.tk, pl.nh, pl.hs
	c := nh * hs
	p = uninit(b, nh, tq, tk)
	y = uninit(b, tq, c)
	if p.Size() == 0 || y.Size() == 0 {
		clear(y.data)
		return y, p
	}
	heads := pl.allHeads()
	// scores (Tq, Tk) = q·kᵀ per head, by blocks of query rows: rows [lo, hi) need keys up to hi
	for _, r := range pl.qBlocks {
		gemm.SgemmBatched(false, true, r.hi-r.lo, pl.keys(r), hs, pl.q.data, pl.q.ld, pl.k.data, pl.k.ld, p.data, tk,
			pl.offsets(heads, pl.atQ(r.lo), pl.atK(pl.k, 0), pl.atScore(r.lo, 0)), false)
	}
	// scale, mask and normalise each row: row i sees its first lim keys, less the padded ones
	scale := float32(1 / math.Sqrt(float64(hs)))
	negInf := float32(math.Inf(-1))
	parallelFor(b*nh*tq, tk*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i, bi := r%tq, r/(nh*tq)
			row := p.data[r*tk : (r+1)*tk]
			lim := tk
			if a.Causal {
				lim = i + pl.past + 1
			}
			vis := row[:lim]
			vecmath.Scale(vis, vis, scale)
			seen := lim
			if a.KeyPad != nil {
				for j, padded := range a.KeyPad[bi*tk : bi*tk+lim] {
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
	// y (Tq, HS) per head = p·v, written into its columns of (B, Tq, NH·HS); rows [lo, hi) of p
	// are zero past their keys, so only those values take part
	for _, r := range pl.qBlocks {
		gemm.SgemmBatched(false, false, r.hi-r.lo, hs, pl.keys(r), p.data, tk, pl.v.data, pl.v.ld, y.data, c,
			pl.offsets(heads, pl.atScore(r.lo, 0), pl.atK(pl.v, 0), pl.atRow(tq, c, r.lo, false)), false)
	}
	return y, p
}

// AttentionBackward returns the gradients with respect to q, k and v, shaped like them, given
// the output gradient dy (B, Tq, NH·HS), the inputs and the weights p that Attention returned.
// With S the scaled scores: dV = pᵀ·dy, dp = dy·vᵀ, dS = p·(dp − Σ p·dp), dQ = dS·k/√HS,
// dK = dSᵀ·q/√HS; a KV head's gradients sum over the query heads that share it. Masked weights
// are 0, so masked scores get no gradient without the masks being passed again.
//
// When q, k and v are the three consecutive slices of one (B, T, W) tensor's last axis (a fused
// projection read in place), the gradients are written side by side into one (B, T, W) tensor,
// returned as packed (dq, dk and dv are views of it); otherwise packed is nil.
func AttentionBackward(dy, q, k, v, p *Tensor, a Attn) (dq, dk, dv, packed *Tensor) {
	pl := newPlan("AttentionBackward", q, k, v, a)
	b, tq, tk, nh, nkv, hs := pl.b, pl.tq, pl.tk, pl.nh, pl.nkv, pl.hs
	c, ckv := nh*hs, nkv*hs
	if !sameShape(dy.shape, []int{b, tq, c}) || !sameShape(p.shape, []int{b, nh, tq, tk}) {
		panic(fmt.Sprintf("tensor.AttentionBackward: dy %v and p %v do not fit q %v, k %v with %d heads", dy.shape, p.shape, q.shape, k.shape, nh))
	}
	// the gradients' layout: one (B, T, W) buffer for a packed q, k, v, else three
	var gq, gk, gv []float32
	ldq, ldk := c, ckv
	offQ, offK, offV := 0, 0, 0
	if isPacked(q, k, v) {
		w := c + 2*ckv
		packed = uninit(b, tq, w)
		dq, dk, dv = packed.Narrow(2, 0, c), packed.Narrow(2, c, ckv), packed.Narrow(2, c+ckv, ckv)
		gq, gk, gv = packed.data, packed.data, packed.data
		ldq, ldk, offK, offV = w, w, c, c+ckv
	} else {
		dq, dk, dv = uninit(b, tq, c), uninit(b, tk, ckv), uninit(b, tk, ckv)
		gq, gk, gv = dq.data, dk.data, dv.data
	}
	if tq == 0 || tk == 0 || c == 0 {
		clear(gq)
		clear(gk)
		clear(gv)
		return dq, dk, dv, packed
	}
	g := dy.Contiguous().data
	pd := p.Contiguous().data
	ds := uninit(b, nh, tq, tk)
	dqAt := func(t int) func(bi, h int) int { return shiftBy(pl.atRow(tq, ldq, t, false), offQ) }
	dkAt := func(t int, off int) func(bi, h int) int { return shiftBy(pl.atRow(tk, ldk, t, true), off) }
	groups := pl.groups()

	// dV = pᵀ·dy: key rows [lo, hi) gather from the queries that see them; the heads sharing a KV
	// head add up, one group of heads at a time
	for gi, heads := range groups {
		for _, r := range pl.kBlocks {
			q0 := pl.queries(r)
			gemm.SgemmBatched(true, false, r.hi-r.lo, hs, tq-q0, pd, tk, g, c, gv, ldk,
				pl.offsets(heads, pl.atScore(q0, r.lo), pl.atRow(tq, c, q0, false), dkAt(r.lo, offV)), gi > 0)
		}
	}
	// dp = dy·vᵀ by blocks of query rows as for the scores, then dS = p·(dp − Σ p·dp)·scale in
	// place over the visible keys (masked entries have p = 0)
	heads := pl.allHeads()
	for _, r := range pl.qBlocks {
		gemm.SgemmBatched(false, true, r.hi-r.lo, pl.keys(r), hs, g, c, pl.v.data, pl.v.ld, ds.data, tk,
			pl.offsets(heads, pl.atRow(tq, c, r.lo, false), pl.atK(pl.v, 0), pl.atScore(r.lo, 0)), false)
	}
	scale := float32(1 / math.Sqrt(float64(hs)))
	parallelFor(b*nh*tq, tk*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			lim := tk
			if a.Causal {
				lim = r%tq + pl.past + 1
			}
			pr, dr := pd[r*tk:r*tk+lim], ds.data[r*tk:(r+1)*tk]
			dot := float32(vecmath.Dot(pr, dr[:lim]))
			vecmath.SubScale(dr[:lim], dr[:lim], dot, scale) // (dp − Σ p·dp)·scale
			vecmath.Mul(dr[:lim], dr[:lim], pr)              // ·p
			clear(dr[lim:])
		}
	})
	// dQ = dS·k and dK = dSᵀ·q, skipping dS's zeros past each row's keys as p·v and pᵀ·dy do
	for _, r := range pl.qBlocks {
		gemm.SgemmBatched(false, false, r.hi-r.lo, hs, pl.keys(r), ds.data, tk, pl.k.data, pl.k.ld, gq, ldq,
			pl.offsets(heads, pl.atScore(r.lo, 0), pl.atK(pl.k, 0), dqAt(r.lo)), false)
	}
	for gi, heads := range groups {
		for _, r := range pl.kBlocks {
			q0 := pl.queries(r)
			gemm.SgemmBatched(true, false, r.hi-r.lo, hs, tq-q0, ds.data, tk, pl.q.data, pl.q.ld, gk, ldk,
				pl.offsets(heads, pl.atScore(q0, r.lo), pl.atQ(q0), dkAt(r.lo, offK)), gi > 0)
		}
	}
	release(ds)
	return dq, dk, dv, packed
}

func shiftBy(at func(bi, h int) int, d int) func(bi, h int) int {
	return func(bi, h int) int { return at(bi, h) + d }
}

// isPacked reports whether q, k and v are, in this order, the slices of one contiguous (B, T, W)
// tensor's last axis that together cover it.
func isPacked(q, k, v *Tensor) bool {
	if len(q.data) == 0 || len(k.data) == 0 || len(v.data) == 0 || &q.data[0] != &k.data[0] || &q.data[0] != &v.data[0] {
		return false
	}
	w := q.shape[2] + k.shape[2] + v.shape[2]
	b, t := q.shape[0], q.shape[1]
	for _, x := range []*Tensor{q, k, v} {
		if x.shape[0] != b || x.shape[1] != t || x.strides[2] != 1 || (t > 1 && x.strides[1] != w) || (b > 1 && x.strides[0] != t*w) {
			return false
		}
	}
	return q.offset == 0 && k.offset == q.shape[2] && v.offset == k.offset+k.shape[2] && len(q.data) >= b*t*w
}
