package tensor

import (
	"fmt"
	"math"
	"slices"

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
	scale                        float32 // 1/√HS, the scores' factor
	q, k, v                      rows3
	qBlocks, kBlocks             []rowBlock // query rows; key rows (for pᵀ·…)
	causal                       bool
	// groups[j] holds the query heads j, g+j, 2g+j, … (g = NH/NKV), one per KV head: the products
	// into the KV heads' gradients run one group at a time, so that their outputs never overlap
	groups [][]int
}

// newPlan lays out an attention; with backward, also the key blocks and head groups that only
// the backward pass reads (a decoding step, which runs the forward pass alone 30 times a token,
// does not build them).
func newPlan(op string, q, k, v *Tensor, a Attn, backward bool) *plan {
	b, tq, tk, nh, nkv, hs := attnDims(op, q, k, v, a)
	p := &plan{b: b, tq: tq, tk: tk, nh: nh, nkv: nkv, hs: hs, past: tk - tq, causal: a.Causal,
		scale: float32(1 / math.Sqrt(float64(hs))),
		q:     asRows3(q), k: asRows3(k), v: asRows3(v)}
	p.qBlocks = []rowBlock{{0, tq}}
	if a.Causal && tq > 1 {
		p.qBlocks = causalBlocks(tq)
	}
	if !backward {
		return p
	}
	p.kBlocks = []rowBlock{{0, tk}}
	if a.Causal {
		p.kBlocks = causalBlocks(tk)
	}
	p.groups = make([][]int, nh/nkv)
	for h := range nh {
		p.groups[h%(nh/nkv)] = append(p.groups[h%(nh/nkv)], h)
	}
	return p
}

// keys returns how many keys query block r needs: those up to its last row's position.
func (p *plan) keys(r rowBlock) int {
	if !p.causal {
		return p.tk
	}
	return r.hi + p.past
}

// queries returns the first query that sees any key of block r (key j is seen by the queries
// i ≥ j − past).
func (p *plan) queries(r rowBlock) int {
	if !p.causal {
		return 0
	}
	return max(0, r.lo-p.past)
}

// offsets returns the offsets of one product per batch entry and query head of heads (nil: all);
// each argument maps (batch entry, query head) to an offset.
func (p *plan) offsets(heads []int, a, bb, c func(bi, h int) int) []gemm.BatchOffsets {
	offs := make([]gemm.BatchOffsets, 0, p.b*p.nh)
	for bi := range p.b {
		for h := range p.nh {
			if heads == nil || slices.Contains(heads, h) {
				offs = append(offs, gemm.BatchOffsets{A: a(bi, h), B: bb(bi, h), C: c(bi, h)})
			}
		}
	}
	return offs
}

// head returns where query head h's block of r starts at position t, or with kv its KV head's
// (h / (NH/NKV)).
func (p *plan) head(r rows3, t int, kv bool) func(bi, h int) int {
	g := 1
	if kv {
		g = p.nh / p.nkv
	}
	return func(bi, h int) int { return r.at(bi, h/g, p.hs, t) }
}

// score returns where entry (i, j) of query head h's (Tq, Tk) weights starts.
func (p *plan) score(i, j int) func(bi, h int) int {
	return func(bi, h int) int { return ((bi*p.nh+h)*p.tq+i)*p.tk + j }
}

// normalise scales, masks and normalises row r of the scores (B·NH·Tq rows of Tk) in place,
// into attention weights: the row's query sees its first lim keys (all, or up to its own
// position when causal) less the padded ones; every other weight is exactly 0, and a query that
// sees no key gets a row of zeros. It reports whether the query sees any key.
func (pl *plan) normalise(a Attn, r int, row []float32) bool {
	i, bi := r%pl.tq, r/(pl.nh*pl.tq)
	lim := pl.tk
	if a.Causal {
		lim = i + pl.past + 1
	}
	vis := row[:lim]
	if a.KeyPad == nil { // every visible key is seen: scale and normalise in one call
		vecmath.SoftmaxScaledRow(vis, pl.scale)
		clear(row[lim:])
		return true
	}
	vecmath.Scale(vis, vis, pl.scale)
	seen := lim
	if a.KeyPad != nil {
		for j, padded := range a.KeyPad[bi*pl.tk : bi*pl.tk+lim] {
			if padded {
				vis[j] = float32(math.Inf(-1))
				seen--
			}
		}
	}
	if seen == 0 {
		clear(row)
		return false
	}
	vecmath.SoftmaxRow(vis, vis)
	clear(row[lim:])
	return true
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
	pl := newPlan("Attention", q, k, v, a, false)
	b, tq, tk, nh, hs := pl.b, pl.tq, pl.tk, pl.nh, pl.hs
	p, y = uninit(b, nh, tq, tk), uninit(b, tq, nh*hs)
	if p.Size() == 0 || y.Size() == 0 {
		clear(y.data)
		return y, p
	}
	ry := asRows3(y)
	if tq == 1 {
		attendOneQuery(pl, a, p, ry)
		return y, p
	}
	// scores (Tq, Tk) = q·kᵀ per head, by blocks of query rows: rows [lo, hi) need keys up to hi
	for _, r := range pl.qBlocks {
		sgemmBatched(false, true, r.hi-r.lo, pl.keys(r), hs, pl.q.data, pl.q.ld, pl.k.data, pl.k.ld, p.data, tk,
			pl.offsets(nil, pl.head(pl.q, r.lo, false), pl.head(pl.k, 0, true), pl.score(r.lo, 0)), false)
	}
	parallelFor(b*nh*tq, tk*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			pl.normalise(a, r, p.data[r*tk:(r+1)*tk])
		}
	})
	// y (Tq, HS) per head = p·v, written into its columns of (B, Tq, NH·HS); rows [lo, hi) of p
	// are zero past their keys, so only those values take part
	for _, r := range pl.qBlocks {
		sgemmBatched(false, false, r.hi-r.lo, hs, pl.keys(r), p.data, tk, pl.v.data, pl.v.ld, y.data, ry.ld,
			pl.offsets(nil, pl.score(r.lo, 0), pl.head(pl.v, 0, true), pl.head(ry, r.lo, false)), false)
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
	pl := newPlan("AttentionBackward", q, k, v, a, true)
	b, tq, tk, nh, hs := pl.b, pl.tq, pl.tk, pl.nh, pl.hs
	c, ckv := nh*hs, pl.nkv*hs
	if !sameShape(dy.shape, []int{b, tq, c}) || !sameShape(p.shape, []int{b, nh, tq, tk}) {
		panic(fmt.Sprintf("tensor.AttentionBackward: dy %v and p %v do not fit q %v, k %v with %d heads", dy.shape, p.shape, q.shape, k.shape, nh))
	}
	if Packed(q, k, v) { // one (B, T, W) buffer, else three
		packed = uninit(b, tq, c+2*ckv)
		dq, dk, dv = packed.Narrow(2, 0, c), packed.Narrow(2, c, ckv), packed.Narrow(2, c+ckv, ckv)
	} else {
		dq, dk, dv = uninit(b, tq, c), uninit(b, tk, ckv), uninit(b, tk, ckv)
	}
	if tq == 0 || tk == 0 || c == 0 {
		for _, d := range []*Tensor{dq, dk, dv} {
			d.Fill(0)
		}
		return dq, dk, dv, packed
	}
	rdq, rdk, rdv, rdy := asRows3(dq), asRows3(dk), asRows3(dv), asRows3(dy.Contiguous())
	pd := p.Contiguous().data
	ds := uninit(b, nh, tq, tk)

	// dV = pᵀ·dy: key rows [lo, hi) gather from the queries that see them; the heads sharing a KV
	// head add up, one group of heads at a time
	for gi, heads := range pl.groups {
		for _, r := range pl.kBlocks {
			q0 := pl.queries(r)
			sgemmBatched(true, false, r.hi-r.lo, hs, tq-q0, pd, tk, rdy.data, rdy.ld, rdv.data, rdv.ld,
				pl.offsets(heads, pl.score(q0, r.lo), pl.head(rdy, q0, false), pl.head(rdv, r.lo, true)), gi > 0)
		}
	}
	// dp = dy·vᵀ by blocks of query rows as for the scores, then dS = p·(dp − Σ p·dp)·scale in
	// place over the visible keys (masked entries have p = 0)
	for _, r := range pl.qBlocks {
		sgemmBatched(false, true, r.hi-r.lo, pl.keys(r), hs, rdy.data, rdy.ld, pl.v.data, pl.v.ld, ds.data, tk,
			pl.offsets(nil, pl.head(rdy, r.lo, false), pl.head(pl.v, 0, true), pl.score(r.lo, 0)), false)
	}
	scale := pl.scale
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
		sgemmBatched(false, false, r.hi-r.lo, hs, pl.keys(r), ds.data, tk, pl.k.data, pl.k.ld, rdq.data, rdq.ld,
			pl.offsets(nil, pl.score(r.lo, 0), pl.head(pl.k, 0, true), pl.head(rdq, r.lo, false)), false)
	}
	for gi, heads := range pl.groups {
		for _, r := range pl.kBlocks {
			q0 := pl.queries(r)
			sgemmBatched(true, false, r.hi-r.lo, hs, tq-q0, ds.data, tk, pl.q.data, pl.q.ld, rdk.data, rdk.ld,
				pl.offsets(heads, pl.score(q0, r.lo), pl.head(pl.q, q0, false), pl.head(rdk, r.lo, true)), gi > 0)
		}
	}
	release(ds)
	return dq, dk, dv, packed
}

// Packed reports whether q, k and v are, in this order, the slices of one contiguous (B, T, W)
// tensor's last axis that together cover it, as Split makes them: AttentionBackward then packs
// their gradients.
func Packed(q, k, v *Tensor) bool {
	w := q.shape[2] + k.shape[2] + v.shape[2]
	for _, x := range []*Tensor{q, k, v} {
		if len(x.data) == 0 || &x.data[0] != &q.data[0] || !sameShape(x.shape[:2], q.shape[:2]) ||
			x.strides[2] != 1 || x.strides[1] != w || x.strides[0] != q.shape[1]*w {
			return false
		}
	}
	return k.offset == q.offset+q.shape[2] && v.offset == k.offset+k.shape[2]
}
