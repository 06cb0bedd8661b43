package nn

import (
	"fmt"

	"github.com/goformer/goformer/tensor"
)

// Decoding steps without a graph. A decoding step feeds one new token of each sequence through
// every block; as autograd ops on tensors, each of its some 30 ops a layer allocates a tensor, a
// record and views, which on a SmolLM2-shaped model cost more time than the norms, rotations and
// attention themselves (3,400 allocations and 1.5 ms a token). StepRow runs the same block on
// the sequences' rows held in a few reused slices (RowScratch), with the row kernels that the
// tensor ops are built from (tensor.RMSNormRow, tensor.AttendRows, …), so it computes what
// Forward computes, bit for bit, for the blocks it accepts (CanStepRow): pre-norm blocks of
// self-attention, GPT-2's and the Llama family's, with frozen weights and no adapters.

// RowMatrix is a Matrix that also multiplies rows into the caller's buffer, as StepRow needs of
// every weight matrix (Dense is one).
type RowMatrix interface {
	Matrix
	// MulTRow sets dst (M·N) to x·Wᵀ + bias for the M rows of x (M·K) and bias (N) or nil: what
	// MulT computes for those rows, bit for bit.
	MulTRow(dst, x, bias []float32)
}

// MulTRow sets dst (M·N) to x·Wᵀ + bias for the M rows of x (M·K).
func (d Dense) MulTRow(dst, x, bias []float32) { tensor.MulRowT(dst, x, d.W.Value, bias) }

// RowScratch holds the activations of decoding steps (StepRow): a few rows per sequence that
// every layer and every step reuse. The zero value is ready; it is not safe for concurrent use.
type RowScratch struct {
	norm, qkv, q, k, v, qHeads, kHeads, qRot, kRot, att, out, ff, ff2, gate, up, act []float32
}

// grow returns (*buf)[:n], reallocating it when it is too short.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// CanStepRow reports whether StepRow computes this block: pre-norm, self-attention only, with
// LayerNorm or RMSNorm, rotary positions or none, a GELU or ReLU MLP or SwiGLU, weights that need
// no gradient (a frozen or compact view), no adapters and no active dropout.
func (bl *Block) CanStepRow() bool {
	return !bl.PostNorm && bl.Cross == nil && !bl.AttnDrop.active() && !bl.FFDrop.active() &&
		rowNorm(bl.AttnNorm) && rowNorm(bl.FFNorm) && bl.Attn.canStepRow() && rowFeedForward(bl.FF)
}

// StepRow is Forward for one new position of each of the B sequences of cache (x (B, 1, C)
// there): x (B·C) is updated in place. A cache that has seen no step yet takes B from x. The
// block must pass CanStepRow.
func (bl *Block) StepRow(x []float32, cache *KVCache, s *RowScratch) {
	c, _ := bl.Attn.Out.W().Dims()
	if c == 0 || len(x)%c != 0 {
		panic(fmt.Sprintf("nn.Block.StepRow: %d values are not rows of %d", len(x), c))
	}
	h := grow(&s.norm, len(x))
	normRows(bl.AttnNorm, h, x, c)
	tensor.AddRow(x, bl.Attn.stepRow(h, len(x)/c, cache, s))
	normRows(bl.FFNorm, h, x, c)
	tensor.AddRow(x, feedForwardRow(bl.FF, h, len(x)/c, s))
}

func rowNorm(n Norm) bool {
	switch n := n.(type) {
	case *RMSNorm:
		return !n.Weight.RequiresGrad()
	case *LayerNorm:
		return !n.Weight.RequiresGrad() && (n.Bias == nil || !n.Bias.RequiresGrad())
	}
	return false
}

// normRows sets each row (C) of dst to the norm n (rowNorm) of x's; dst must not be x.
func normRows(n Norm, dst, x []float32, c int) {
	for r := 0; r < len(x); r += c {
		normRow(n, dst[r:r+c], x[r:r+c])
	}
}

// normRow sets dst to the norm n (rowNorm) of x; dst must not be x.
func normRow(n Norm, dst, x []float32) {
	switch n := n.(type) {
	case *RMSNorm:
		tensor.RMSNormRow(dst, x, n.Weight.Value.Contiguous().Data(), n.Eps)
	case *LayerNorm:
		var b []float32
		if n.Bias != nil {
			b = n.Bias.Value.Contiguous().Data()
		}
		tensor.LayerNormRow(dst, x, n.Weight.Value.Contiguous().Data(), b, n.Eps)
	}
}

// rowReady reports whether forwardRow computes l: no adapter, nothing that needs a gradient.
func (l *Linear) rowReady() bool {
	if l == nil || l.LoRA != nil || (l.Bias != nil && l.Bias.RequiresGrad()) {
		return false
	}
	switch w := l.W().(type) {
	case Dense:
		return !w.W.RequiresGrad()
	case RowMatrix:
		return true
	}
	return false
}

// forwardRow sets dst (M·out) to Forward of the M rows of x (M·in).
func (l *Linear) forwardRow(dst, x []float32) {
	var b []float32
	if l.Bias != nil {
		b = l.Bias.Value.Contiguous().Data()
	}
	l.W().(RowMatrix).MulTRow(dst, x, b)
}

// forwardRows is forwardRow of several layers that read the same rows x, into dsts: for one row
// with float32 weights as one job (tensor.MulRowsT), as a model that trains holds q, k and v (or
// gate and up) apart.
func forwardRows(ls []*Linear, dsts [][]float32, x []float32) {
	if _, k := ls[0].W().Dims(); len(x) != k {
		for i, l := range ls {
			l.forwardRow(dsts[i], x)
		}
		return
	}
	ws := make([]*tensor.Tensor, len(ls))
	biases := make([][]float32, len(ls))
	for i, l := range ls {
		d, ok := l.W().(Dense)
		if !ok {
			for i, l := range ls {
				l.forwardRow(dsts[i], x)
			}
			return
		}
		ws[i] = d.W.Value
		if l.Bias != nil {
			biases[i] = l.Bias.Value.Contiguous().Data()
		}
	}
	tensor.MulRowsT(dsts, x, ws, biases)
}

func (a *Attention) canStepRow() bool {
	if a == nil || a.Drop.active() || !a.Out.rowReady() {
		return false
	}
	if _, ok := a.Rotary.(*Rotary); a.Rotary != nil && !ok {
		return false
	}
	if (a.QNorm != nil && !rowNorm(a.QNorm)) || (a.KNorm != nil && !rowNorm(a.KNorm)) {
		return false
	}
	if a.QKV != nil {
		return a.QKV.rowReady()
	}
	return a.Q.rowReady() && a.K.rowReady() && a.V.rowReady()
}

// stepRow is Forward for one new position of each of b sequences, x (b·C), with their cache of b
// rows; the output (b·C) lives in s.
func (a *Attention) stepRow(x []float32, b int, c *KVCache, s *RowScratch) []float32 {
	hs, nh, nkv := a.headDim(), a.NHead, a.kvHeads()
	nq, nk := nh*hs, nkv*hs
	// row r's q, k and v start at r·stride plus their offsets
	var proj []float32
	stride, qOff, kOff, vOff := nq+2*nk, 0, nq, nq+nk
	if a.QKV != nil {
		proj = grow(&s.qkv, b*stride)
		a.QKV.forwardRow(proj, x)
	} else {
		q, k, v := grow(&s.q, b*nq), grow(&s.k, b*nk), grow(&s.v, b*nk)
		forwardRows([]*Linear{a.Q, a.K, a.V}, [][]float32{q, k, v}, x)
		proj = grow(&s.qkv, b*stride) // each row's q, k and v side by side, as a fused projection's
		for r := range b {
			copy(proj[r*stride:], q[r*nq:(r+1)*nq])
			copy(proj[r*stride+nq:], k[r*nk:(r+1)*nk])
			copy(proj[r*stride+nq+nk:], v[r*nk:(r+1)*nk])
		}
	}
	lens := c.stepLens(b) // each row's cached positions: the new ones' positions
	queries, kh := grow(&s.qRot, b*nq), grow(&s.kRot, b*nk)
	for r, pos := range lens {
		row := proj[r*stride : (r+1)*stride]
		q, k := queries[r*nq:(r+1)*nq], kh[r*nk:(r+1)*nk]
		copy(q, a.headsRow(q, row[qOff:qOff+nq], nh, hs, a.QNorm, pos, &s.qHeads))
		copy(k, a.headsRow(k, row[kOff:kOff+nk], nkv, hs, a.KNorm, pos, &s.kHeads))
	}
	keys, values, rowStride := c.appendRows(kh, proj[vOff:], nk, stride)
	y := grow(&s.att, b*nq)
	tensor.AttendRows(y, queries, keys, values, rowStride, nk, c.lens, nh, nkv)
	n, _ := a.Out.W().Dims()
	out := grow(&s.out, b*n)
	a.Out.forwardRow(out, y)
	return out
}

// stepLens returns the cached positions of each of the cache's b rows, before a step of one new
// position each (StepRow); a cache that has seen no step yet gets b rows.
func (c *KVCache) stepLens(b int) []int {
	if c.lens == nil {
		c.lens = make([]int, b)
	}
	if len(c.lens) != b || c.cross {
		panic(fmt.Sprintf("nn.KVCache: a step of %d rows on a cache of %d rows (cross-attention: %v)", b, len(c.lens), c.cross))
	}
	return c.lens
}

// appendRows writes one new position of each row after its cached ones, as append does for a
// (B, 1, w) step: row r's w keys at k[r·w:] and w values at v[r·ldv:]. It returns the cache's
// keys and values, positions w apart, row r's from r·rowStride.
func (c *KVCache) appendRows(k, v []float32, w, ldv int) (keys, values []float32, rowStride int) {
	c.reserve(c.Len()+1, w)
	keys, values, rowStride = c.k.Data(), c.v.Data(), c.k.Dim(1)*w
	for r, n := range c.lens {
		at := r*rowStride + n*w
		copy(keys[at:at+w], k[r*w:(r+1)*w])
		copy(values[at:at+w], v[r*ldv:r*ldv+w])
		c.lens[r]++
	}
	return keys, values, rowStride
}

// headsRow applies norm to each of the heads of one position's x (heads·HS) and the rotation by
// position pos, as perHead does, and returns the result: x itself, or dst (the rotation's
// output; normed holds the norm's).
func (a *Attention) headsRow(dst, x []float32, heads, hs int, norm Norm, pos int, normed *[]float32) []float32 {
	if norm != nil {
		d := grow(normed, len(x))
		for h := range heads {
			normRow(norm, d[h*hs:(h+1)*hs], x[h*hs:(h+1)*hs])
		}
		x = d
	}
	if r, ok := a.Rotary.(*Rotary); ok {
		cos, sin := r.Tables()
		tensor.RopeRow(dst, x, heads, cos, sin, pos)
		return dst
	}
	return x
}

func rowFeedForward(f FeedForward) bool {
	switch f := f.(type) {
	case *SwiGLU:
		if f.GateUp != nil {
			return f.GateUp.rowReady() && f.Down.rowReady()
		}
		return f.Gate.rowReady() && f.Up.rowReady() && f.Down.rowReady()
	case *MLP:
		switch f.Act.(type) {
		case GELU, ReLU:
			return !f.Drop.active() && f.Up.rowReady() && f.Down.rowReady()
		}
	}
	return false
}

// feedForwardRow is f's Forward for the b rows of x (b·C); the output (b·C) lives in s.
func feedForwardRow(f FeedForward, x []float32, b int, s *RowScratch) []float32 {
	var down *Linear
	var hidden []float32
	switch f := f.(type) {
	case *SwiGLU:
		var gate, up []float32
		if f.GateUp != nil {
			n, _ := f.GateUp.W().Dims()
			both := grow(&s.ff, b*n)
			f.GateUp.forwardRow(both, x)
			h := n / 2
			if b == 1 {
				gate, up = both[:h], both[h:]
			} else { // each row's gate and up, gathered as SiLUMul gathers the split's views
				gate, up = grow(&s.gate, b*h), grow(&s.up, b*h)
				for r := range b {
					copy(gate[r*h:(r+1)*h], both[r*n:r*n+h])
					copy(up[r*h:(r+1)*h], both[r*n+h:(r+1)*n])
				}
			}
		} else {
			n, _ := f.Gate.W().Dims()
			gate, up = grow(&s.ff, b*n), grow(&s.ff2, b*n)
			forwardRows([]*Linear{f.Gate, f.Up}, [][]float32{gate, up}, x)
		}
		hidden = grow(&s.act, len(gate))
		tensor.SiLUMulRow(hidden, gate, up)
		down = f.Down
	case *MLP:
		n, _ := f.Up.W().Dims()
		up := grow(&s.ff, b*n)
		f.Up.forwardRow(up, x)
		hidden = grow(&s.act, b*n)
		switch act := f.Act.(type) {
		case GELU:
			tensor.GELURow(hidden, up, act.Tanh)
		case ReLU:
			tensor.ReLURow(hidden, up)
		}
		down = f.Down
	}
	n, _ := down.W().Dims()
	out := grow(&s.out, b*n)
	down.forwardRow(out, hidden)
	return out
}
