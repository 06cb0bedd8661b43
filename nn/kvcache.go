package nn

import (
	"fmt"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// KVCache holds one attention layer's keys and values while decoding, so that a new token costs
// one position's work instead of the whole sequence's: the keys after rotation and the values,
// of the KV heads only, for B rows (sequences), each with its own length (batched generation
// runs prompts of different lengths together). It grows in place into spare room, doubling it
// when full (or at once to the room Reserve asked for), so a step copies only its new positions. Reorder keeps the rows beam search
// extends. A cross-attention's cache (Attention.CrossCache) holds the keys and values of the
// encoder's output, computed once.
//
// The zero value is an empty self-attention cache; its number of rows is set by the first
// forward pass (or NewKVCache). A cache is for inference: the layers using it must be a frozen
// view.
type KVCache struct {
	k, v  *tensor.Tensor // (B, room, NKV·HS): row b holds positions [0, lens[b])
	lens  []int
	cross bool
	want  int // positions per row to make room for at the first growth (Reserve)
}

// Reserve asks for room for n positions per row when the cache next grows, so that a decoder
// that knows how long its sequences can get (the prompt and the tokens to generate, at most the
// model's context) allocates the cache once instead of doubling it on the way, each time into
// fresh memory (which cost a SmolLM2-shaped decoding step up to half a millisecond a layer).
func (c *KVCache) Reserve(n int) { c.want = max(c.want, n) }

// NewKVCache returns an empty self-attention cache of the given number of rows, for SetRow to
// fill row by row.
func NewKVCache(rows int) *KVCache { return &KVCache{lens: make([]int, rows)} }

// Len returns the number of cached positions of the longest row (of the one row, in
// single-sequence decoding).
func (c *KVCache) Len() int {
	if c == nil || len(c.lens) == 0 {
		return 0
	}
	return slices.Max(c.lens)
}

// Lens returns the number of cached positions of each row.
func (c *KVCache) Lens() []int { return slices.Clone(c.lens) }

// Positions returns the positions of t new steps of b rows following the cached ones: t
// positions when every row has the same length (or c is nil or empty), else b·t, row-major.
// This is what AttnInput.Pos defaults to, and what a model's position embedding takes.
func (c *KVCache) Positions(b, t int) []int {
	lens := []int{c.Len()}
	if c != nil && !c.even() {
		lens = c.lens
	}
	pos := make([]int, 0, len(lens)*t)
	for _, n := range lens {
		for i := range t {
			pos = append(pos, n+i)
		}
	}
	return pos
}

// even reports whether every row holds as many positions.
func (c *KVCache) even() bool { return len(c.lens) == 0 || slices.Min(c.lens) == slices.Max(c.lens) }

// Reorder makes row i of the cache a copy of old row rows[i] (rows may repeat or drop rows):
// beam search keeps the caches of the hypotheses it extends, batched generation drops the rows
// that finished. Only the cached positions are copied, into the same room.
func (c *KVCache) Reorder(rows []int) {
	lens := make([]int, len(rows))
	for i, r := range rows {
		lens[i] = c.lens[r]
	}
	if c.k != nil {
		n, s := c.Len(), c.k.Shape()
		k, v := tensor.Zeros(len(rows), s[1], s[2]), tensor.Zeros(len(rows), s[1], s[2])
		for i, r := range rows {
			k.Narrow(0, i, 1).Narrow(1, 0, n).CopyFrom(c.k.Narrow(0, r, 1).Narrow(1, 0, n))
			v.Narrow(0, i, 1).Narrow(1, 0, n).CopyFrom(c.v.Narrow(0, r, 1).Narrow(1, 0, n))
		}
		c.k, c.v = k, v
	}
	c.lens = lens
}

// SetRow makes row r hold the keys and values of src's only row: batched generation prefills
// each prompt alone, then decodes the prompts together. src may be nil or empty (no positions).
func (c *KVCache) SetRow(r int, src *KVCache) {
	if src == nil || src.k == nil || src.lens[0] == 0 {
		c.lens[r] = 0
		return
	}
	if len(src.lens) != 1 {
		panic(fmt.Sprintf("nn.KVCache.SetRow: source has %d rows, want 1", len(src.lens)))
	}
	n := src.lens[0]
	c.lens[r] = 0
	c.reserve(n, src.k.Dim(2))
	c.k.Narrow(0, r, 1).Narrow(1, 0, n).CopyFrom(src.k.Narrow(1, 0, n))
	c.v.Narrow(0, r, 1).Narrow(1, 0, n).CopyFrom(src.v.Narrow(1, 0, n))
	c.lens[r] = n
}

// reserve makes room for need positions in every row of width w, keeping the cached ones.
func (c *KVCache) reserve(need, w int) {
	if c.k != nil && c.k.Dim(1) >= need {
		return
	}
	room := max(2*need, 16)
	if c.want >= need {
		room = c.want
	}
	k, v := tensor.Zeros(len(c.lens), room, w), tensor.Zeros(len(c.lens), room, w)
	if c.k != nil {
		if n := c.Len(); n > 0 {
			k.Narrow(1, 0, n).CopyFrom(c.k.Narrow(1, 0, n))
			v.Narrow(1, 0, n).CopyFrom(c.v.Narrow(1, 0, n))
		}
	}
	c.k, c.v = k, v
}

// append writes the keys and values (B, T, NKV·HS) of T new positions after each row's cached
// ones.
func (c *KVCache) append(k, v *tensor.Tensor) {
	if c.lens == nil {
		c.lens = make([]int, k.Dim(0))
	}
	if k.Dim(0) != len(c.lens) {
		panic(fmt.Sprintf("nn.KVCache: keys %v for a cache of %d rows", k.Shape(), len(c.lens)))
	}
	t := k.Dim(1)
	c.reserve(c.Len()+t, k.Dim(2))
	if len(c.lens) == 1 { // one sequence (a decoding step at batch 1): no row views to take
		n := c.lens[0]
		c.k.Narrow(1, n, t).CopyFrom(k)
		c.v.Narrow(1, n, t).CopyFrom(v)
		c.lens[0] += t
		return
	}
	for r, n := range c.lens {
		c.k.Narrow(0, r, 1).Narrow(1, n, t).CopyFrom(k.Narrow(0, r, 1))
		c.v.Narrow(0, r, 1).Narrow(1, n, t).CopyFrom(v.Narrow(0, r, 1))
		c.lens[r] += t
	}
}

// attend is attention over the cache: a self-attention cache first takes the new keys and values
// k, v (B, T, NKV·HS); q (B, T, NH·HS) then attends over each row's cached positions (the new
// ones included, causally as s says). Rows of different lengths attend one at a time, each
// over its own positions, so that a row computes what it would alone. s.KeyPad, if set, has one
// flag per cached key (rows of equal length only).
func (c *KVCache) attend(q, k, v *autograd.Var, s tensor.Attn, weights func(*tensor.Tensor)) *autograd.Var {
	if q.RequiresGrad() {
		panic(fmt.Sprintf("nn.KVCache: queries of shape %v require a gradient, but a KV cache is for inference: run a Frozen copy of the layers", q.Shape()))
	}
	if !c.cross {
		c.append(k.Value, v.Value)
	}
	run := func(q *autograd.Var, r, n int, pad []bool) *autograd.Var {
		ks, vs := c.k, c.v
		if r >= 0 {
			ks, vs = ks.Narrow(0, r, 1), vs.Narrow(0, r, 1)
		}
		ks, vs = ks.Narrow(1, 0, n), vs.Narrow(1, 0, n)
		s.KeyPad = pad
		if weights != nil {
			y, p := tensor.Attention(q.Value, ks, vs, s)
			weights(p)
			return autograd.Output(y)
		}
		return autograd.Attention(q, autograd.Const(ks), autograd.Const(vs), s)
	}
	if c.even() {
		return run(q, -1, c.lens[0], s.KeyPad)
	}
	if s.KeyPad != nil {
		panic("nn.KVCache: key padding over rows of different lengths")
	}
	ys := make([]*autograd.Var, len(c.lens))
	for r, n := range c.lens {
		ys[r] = run(autograd.Narrow(q, 0, r, 1), r, n, nil)
	}
	return autograd.Concat(0, ys...)
}
