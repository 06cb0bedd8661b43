package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// GenerateBatch continues each prompt by up to s.MaxNew tokens, as GenerateAll would for each one
// alone (with the same Sampling, seed included), and returns the new tokens of each prompt. The
// prompts advance together: each step runs one token of every unfinished prompt through the
// model as one batch, so every weight matrix is read once per step for all of them, which is
// what makes many prompts at once cheaper than one after another.
//
// Each prompt is prefilled alone into its own KV cache; the steps then batch the matrix
// products and run attention row by row against each prompt's own cache and position, so
// prompts of different lengths need no padding. A prompt that outgrows BlockSize is
// re-prefilled alone over its last BlockSize tokens, as Generate does. A prompt stops at a stop
// token (not included) or after s.MaxNew tokens. On an error (a bad prompt or Sampling, ctx
// done, non-finite logits) GenerateBatch returns the tokens generated so far with it.
//
// Up to 32 prompts, the products compute each output the same way whatever the batch (one
// weight row against one activation row, internal/gemm's thin path), so the tokens equal
// GenerateAll's to the bit; beyond, the blocked products may round the last bits of a logit
// differently, which can only change a choice between near-equal logits.
func (m *GPT) GenerateBatch(ctx context.Context, prompts [][]int, s Sampling) ([][]int, error) {
	out := make([][]int, len(prompts))
	block := m.Config.BlockSize
	for r, p := range prompts {
		if len(p) == 0 {
			return out, fmt.Errorf("model: prompt %d is empty", r)
		}
		for i, id := range p {
			if id < 0 || id >= m.Config.VocabSize {
				return out, fmt.Errorf("model: prompt %d: token id %d at position %d is outside the vocabulary [0, %d)", r, id, i, m.Config.VocabSize)
			}
		}
	}
	if err := s.validate(m.Config.VocabSize); err != nil {
		return out, err
	}
	fm := m.Frozen()
	type row struct {
		seq    []int
		caches []*nn.KVCache
		bufs   []kvBuffer // room for the caches to grow into, one per layer
		smp    *sampler
	}
	rows := make([]*row, len(prompts))
	for r, p := range prompts {
		rows[r] = &row{seq: slices.Clone(p), smp: newSampler(s)}
	}
	active := make([]int, len(prompts)) // prompts still generating
	for r := range active {
		active[r] = r
	}
	for n := 0; n < s.MaxNew && len(active) > 0; n++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		logits := make([][]float32, len(prompts))
		var step []int // prompts whose newest token is the only one not cached
		for _, r := range active {
			w := rows[r]
			if w.caches != nil && w.caches[0].Len() == len(w.seq)-1 && len(w.seq) <= block {
				step = append(step, r)
				continue
			}
			// (re)prefill alone: the first step, or the window slid past BlockSize
			w.caches, w.bufs = make([]*nn.KVCache, len(fm.H)), make([]kvBuffer, len(fm.H))
			for i := range w.caches {
				w.caches[i] = &nn.KVCache{}
			}
			logits[r] = fm.lastLogits(w.seq[max(0, len(w.seq)-block):], 0, w.caches)
		}
		if len(step) > 0 {
			ids := make([]int, len(step))
			pos := make([]int, len(step))
			caches := make([][]*nn.KVCache, len(step))
			bufs := make([][]kvBuffer, len(step))
			for i, r := range step {
				w := rows[r]
				ids[i], pos[i], caches[i], bufs[i] = w.seq[len(w.seq)-1], len(w.seq)-1, w.caches, w.bufs
			}
			all := fm.stepLogits(ids, pos, caches, bufs).Contiguous().Data() // (B·V)
			v := m.Config.VocabSize
			for i, r := range step {
				logits[r] = all[i*v : (i+1)*v]
			}
		}
		still := active[:0]
		var err error
		for _, r := range active {
			w := rows[r]
			if i := firstNonFinite(logits[r]); i >= 0 {
				err = errors.Join(err, fmt.Errorf("model: prompt %d: logit %d is %v at generation step %d: the weights are not finite (did training diverge?)", r, i, logits[r][i], n))
				continue
			}
			tok := w.smp.next(logits[r])
			if slices.Contains(s.Stop, tok) {
				continue
			}
			out[r] = append(out[r], tok)
			w.seq = append(w.seq, tok)
			still = append(still, r)
		}
		if err != nil {
			return out, err
		}
		active = still
	}
	return out, nil
}

// stepLogits runs one new token per sequence through the model, batched: ids[i] at position
// pos[i] of sequence i, whose earlier positions are in caches[i] (one per layer, extended here,
// in place in bufs[i]).
// It returns the logits (B, V). The products with weights take all B rows at once; attention
// runs per sequence against its own cache, the same operations as a one-sequence step.
func (m *GPT) stepLogits(ids, pos []int, caches [][]*nn.KVCache, bufs [][]kvBuffer) *tensor.Tensor {
	b := len(ids)
	tok := m.WTE.Forward(ids, b, 1) // (B, 1, C)
	var pe *autograd.Var
	if m.PE != nil {
		per := make([]*autograd.Var, b)
		for i, p := range pos {
			per[i] = m.PE.Forward(p, 1) // (1, 1, C)
		}
		pe = autograd.Concat(0, per...)
	} else {
		pe = m.WPE.Forward(pos, b, 1) // (B, 1, C)
	}
	x := autograd.Add(tok, pe)
	for l, blk := range m.H {
		a := blk.Attn
		qkv := a.CAttn.Forward(blk.Ln1.Forward(x)) // (B, 1, 3C)
		ys := make([]*autograd.Var, b)
		for i := range b {
			ys[i] = cachedAttention(autograd.Narrow(qkv, 0, i, 1), a.NHead, caches[i][l], &bufs[i][l]) // (1, 1, C)
		}
		x = autograd.Add(x, a.CProj.Forward(autograd.Concat(0, ys...)))
		x = autograd.Add(x, blk.MLP.Forward(blk.Ln2.Forward(x)))
	}
	return m.logits(m.LnF.Forward(x)).Value // (B, 1, V)
}

// cachedAttention is nn.CausalSelfAttention.Forward's cached path after c_attn and before c_proj,
// for one sequence: qkv (1, T, 3C) → (1, T, C), extending cache with the new keys and values.
// Unlike nn.KVCache's own extension, which copies the whole cache for every token, the new
// positions are written into buf, and the cache's K and V become views of its first positions.
func cachedAttention(qkv *autograd.Var, nh int, cache *nn.KVCache, buf *kvBuffer) *autograd.Var {
	shape := qkv.Shape()
	b, t, c := shape[0], shape[1], shape[2]/3
	hs := c / nh
	parts := autograd.Split(qkv, 2, c, c, c)
	heads := func(p *autograd.Var) *autograd.Var { // (B, T, C) -> (B, NH, T, HS)
		return autograd.Permute(autograd.Reshape(p, b, t, nh, hs), 0, 2, 1, 3)
	}
	q, k, v := heads(parts[0]), heads(parts[1]), heads(parts[2])
	cache.K, cache.V = buf.k.extend(cache.K, k.Value), buf.v.extend(cache.V, v.Value)
	k, v = autograd.Const(cache.K), autograd.Const(cache.V)
	scale := float32(1 / math.Sqrt(float64(hs)))
	att := autograd.Scale(autograd.MatMulT(q, k), scale) // (B, NH, T, Tk)
	att = autograd.Softmax(autograd.CausalMask(att))
	y := autograd.MatMul(att, v)                                      // (B, NH, T, HS)
	return autograd.Reshape(autograd.Permute(y, 0, 2, 1, 3), b, t, c) // (B, T, C)
}

// kvBuffer holds one layer's keys and values of one sequence, of which the cache's K and V are
// views of the first positions.
type kvBuffer struct{ k, v growBuffer }

// growBuffer is room for one of a cache's tensors to grow into: buf (1, NH, room, HS), and the
// view of its first positions last handed out.
type growBuffer struct{ buf, view *tensor.Tensor }

// extend returns old (1, NH, T, HS) followed by add (1, NH, T', HS) along axis 2, a view of the
// buffer, which it replaces by a larger one (twice the positions) when they do not fit. old is
// copied in unless it is the view extend returned last (a prefill or a re-prefill starts anew).
func (g *growBuffer) extend(old, add *tensor.Tensor) *tensor.Tensor {
	buf := &g.buf
	t, dt := 0, add.Dim(2)
	if old != nil {
		t = old.Dim(2)
	}
	nh, hs := add.Dim(1), add.Dim(3)
	if *buf == nil || (*buf).Dim(2) < t+dt || old != nil && old != g.view {
		room := max(2*(t+dt), 16)
		nb := tensor.Zeros(1, nh, room, hs)
		if old != nil {
			od, nd := old.Contiguous().Data(), nb.Data()
			for h := range nh {
				copy(nd[h*room*hs:h*room*hs+t*hs], od[h*t*hs:(h+1)*t*hs])
			}
		}
		*buf = nb
	}
	b := *buf
	room, bd, ad := b.Dim(2), b.Data(), add.Contiguous().Data()
	for h := range nh {
		copy(bd[(h*room+t)*hs:(h*room+t+dt)*hs], ad[h*dt*hs:(h+1)*dt*hs])
	}
	g.view = b.Narrow(2, 0, t+dt)
	return g.view
}
