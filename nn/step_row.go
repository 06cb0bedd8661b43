package nn

import (
	"fmt"

	"github.com/goformer/goformer/tensor"
)

// One-position decoding without a graph. A decoding step feeds one new token of one sequence
// through every block; as autograd ops on tensors, each of its some 30 ops a layer allocates a
// tensor, a record and views, which on a SmolLM2-shaped model cost more time than the norms,
// rotations and attention themselves (3,400 allocations and 1.5 ms a token). StepRow runs the
// same block on one row held in a few reused slices (RowScratch), with the row kernels that the
// tensor ops are built from (tensor.RMSNormRow, tensor.AttendRow, …), so it computes what
// Forward computes, bit for bit, for the blocks it accepts (CanStepRow): pre-norm blocks of
// self-attention, GPT-2's and the Llama family's, with frozen weights and no adapters.

// RowMatrix is a Matrix that also multiplies one row into the caller's buffer, as StepRow needs
// of every weight matrix (Dense is one).
type RowMatrix interface {
	Matrix
	// MulTRow sets dst (N) to x·Wᵀ + bias for one row x (K) and bias (N) or nil: what MulT
	// computes for that row, bit for bit.
	MulTRow(dst, x, bias []float32)
}

// MulTRow sets dst (N) to x·Wᵀ + bias for one row x (K).
func (d Dense) MulTRow(dst, x, bias []float32) { tensor.MulRowT(dst, x, d.W.Value, bias) }

// RowScratch holds the activations of one-position steps (StepRow): a few rows that every layer
// and every step reuse. The zero value is ready; it is not safe for concurrent use.
type RowScratch struct {
	norm, qkv, q, k, v, qHeads, kHeads, qRot, kRot, att, out, ff, ff2, act []float32
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

// StepRow is Forward for one new position of one sequence (x (1, 1, C) there) with its KV cache
// of one row: x (C) is updated in place. The block must pass CanStepRow.
func (bl *Block) StepRow(x []float32, cache *KVCache, s *RowScratch) {
	h := grow(&s.norm, len(x))
	normRow(bl.AttnNorm, h, x)
	addRow(x, bl.Attn.stepRow(h, cache, s))
	normRow(bl.FFNorm, h, x)
	addRow(x, feedForwardRow(bl.FF, h, s))
}

// addRow adds y into x: the residual connection, as autograd.Add rounds it.
func addRow(x, y []float32) {
	for i, v := range y {
		x[i] += v
	}
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

// forwardRow sets dst (out) to Forward of one row x (in).
func (l *Linear) forwardRow(dst, x []float32) {
	var b []float32
	if l.Bias != nil {
		b = l.Bias.Value.Contiguous().Data()
	}
	l.W().(RowMatrix).MulTRow(dst, x, b)
}

// forwardRows is forwardRow of several layers that read the same row x, into dsts: with float32
// weights as one job (tensor.MulRowsT), as a model that trains holds q, k and v (or gate and
// up) apart.
func forwardRows(ls []*Linear, dsts [][]float32, x []float32) {
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

// stepRow is Forward for one position x (C) with a one-row cache; the output (C) lives in s.
func (a *Attention) stepRow(x []float32, c *KVCache, s *RowScratch) []float32 {
	hs, nh, nkv := a.headDim(), a.NHead, a.kvHeads()
	nq, nk := nh*hs, nkv*hs
	var q, k, v []float32
	if a.QKV != nil {
		qkv := grow(&s.qkv, nq+2*nk)
		a.QKV.forwardRow(qkv, x)
		q, k, v = qkv[:nq], qkv[nq:nq+nk], qkv[nq+nk:]
	} else {
		q, k, v = grow(&s.q, nq), grow(&s.k, nk), grow(&s.v, nk)
		forwardRows([]*Linear{a.Q, a.K, a.V}, [][]float32{q, k, v}, x)
	}
	pos := c.Len()
	q = a.headsRow(q, nh, hs, a.QNorm, pos, &s.qHeads, &s.qRot)
	k = a.headsRow(k, nkv, hs, a.KNorm, pos, &s.kHeads, &s.kRot)
	keys, values, ld := c.appendRow(k, v)
	y := grow(&s.att, nq)
	tensor.AttendRow(y, q, keys, values, ld, pos+1, nh, nkv)
	n, _ := a.Out.W().Dims()
	out := grow(&s.out, n)
	a.Out.forwardRow(out, y)
	return out
}

// headsRow applies norm to each of the heads of x (heads·HS) and the rotation by position pos,
// as perHead does, into the scratch rows normed and rotated.
func (a *Attention) headsRow(x []float32, heads, hs int, norm Norm, pos int, normed, rotated *[]float32) []float32 {
	if norm != nil {
		d := grow(normed, len(x))
		for h := range heads {
			normRow(norm, d[h*hs:(h+1)*hs], x[h*hs:(h+1)*hs])
		}
		x = d
	}
	if r, ok := a.Rotary.(*Rotary); ok {
		cos, sin := r.Tables()
		d := grow(rotated, len(x))
		tensor.RopeRow(d, x, heads, cos, sin, pos)
		x = d
	}
	return x
}

// appendRow writes one position's keys and values after the one row's cached ones and returns
// the cache's keys and values, ld apart.
func (c *KVCache) appendRow(k, v []float32) (keys, values []float32, ld int) {
	if c.lens == nil {
		c.lens = make([]int, 1)
	}
	if len(c.lens) != 1 || c.cross {
		panic(fmt.Sprintf("nn.KVCache: a one-row step on a cache of %d rows (cross-attention: %v)", len(c.lens), c.cross))
	}
	n := c.lens[0]
	c.reserve(n+1, len(k))
	keys, values, ld = c.k.Data(), c.v.Data(), c.k.Dim(2)
	copy(keys[n*ld:(n+1)*ld], k)
	copy(values[n*ld:(n+1)*ld], v)
	c.lens[0]++
	return keys, values, ld
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

// feedForwardRow is f's Forward for one row x (C); the output (C) lives in s.
func feedForwardRow(f FeedForward, x []float32, s *RowScratch) []float32 {
	var down *Linear
	var hidden []float32
	switch f := f.(type) {
	case *SwiGLU:
		var gate, up []float32
		if f.GateUp != nil {
			n, _ := f.GateUp.W().Dims()
			both := grow(&s.ff, n)
			f.GateUp.forwardRow(both, x)
			gate, up = both[:n/2], both[n/2:]
		} else {
			n, _ := f.Gate.W().Dims()
			gate, up = grow(&s.ff, n), grow(&s.ff2, n)
			forwardRows([]*Linear{f.Gate, f.Up}, [][]float32{gate, up}, x)
		}
		hidden = grow(&s.act, len(gate))
		tensor.SiLUMulRow(hidden, gate, up)
		down = f.Down
	case *MLP:
		n, _ := f.Up.W().Dims()
		up := grow(&s.ff, n)
		f.Up.forwardRow(up, x)
		hidden = grow(&s.act, n)
		switch act := f.Act.(type) {
		case GELU:
			tensor.GELURow(hidden, up, act.Tanh)
		case ReLU:
			tensor.ReLURow(hidden, up)
		}
		down = f.Down
	}
	n, _ := down.W().Dims()
	out := grow(&s.out, n)
	down.forwardRow(out, hidden)
	return out
}
