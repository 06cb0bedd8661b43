package nn

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// scaleByPos is a stand-in Rotation for the tests: it multiplies each step of x (B, T, N, HS)
// by 1 + pos/10, so that a wrong position changes the result.
type scaleByPos struct{}

func (scaleByPos) Rotate(x *autograd.Var, pos []int) *autograd.Var {
	s := x.Shape()
	f := make([]float32, len(pos))
	for i, p := range pos {
		f[i] = 1 + float32(p)/10
	}
	rows := 1
	if len(pos) != s[1] {
		rows = s[0]
	}
	return autograd.Mul(x, autograd.Const(tensor.FromSlice(f, rows, s[1], 1, 1)))
}

// headNorm is a stand-in Norm: it scales each head's vector by a learned (HS) weight.
type headNorm struct{ w *autograd.Var }

func (n headNorm) Forward(x *autograd.Var) *autograd.Var { return autograd.Mul(x, n.w) }

// attnCase is one configuration of Attention to test.
type attnCase struct {
	name            string
	c, nh, nkv, hs  int
	fused, rot, qkn bool
}

func attnCases() []attnCase {
	return []attnCase{
		{name: "gpt2", c: 12, nh: 3, nkv: 3, hs: 4, fused: true},
		{name: "gqa-separate", c: 12, nh: 4, nkv: 2, hs: 5},
		{name: "mqa-rotary", c: 8, nh: 4, nkv: 1, hs: 3, rot: true},
		{name: "qwen3", c: 12, nh: 4, nkv: 2, hs: 6, rot: true, qkn: true},
		{name: "gqa-fused", c: 12, nh: 4, nkv: 2, hs: 3, fused: true, rot: true},
	}
}

func newTestAttention(b *Builder, s attnCase, causal bool) *Attention {
	a := &Attention{NHead: s.nh, NKVHead: s.nkv, HeadDim: s.hs, Causal: causal}
	if s.fused {
		a.QKV = NewLinear(b.Sub("qkv"), s.c, (s.nh+2*s.nkv)*s.hs, true, 0.5)
	} else {
		a.Q = NewLinear(b.Sub("q_proj"), s.c, s.nh*s.hs, true, 0.5)
		a.K = NewLinear(b.Sub("k_proj"), s.c, s.nkv*s.hs, false, 0.5)
		a.V = NewLinear(b.Sub("v_proj"), s.c, s.nkv*s.hs, true, 0.5)
	}
	a.Out = NewLinear(b.Sub("o_proj"), s.nh*s.hs, s.c, false, 0.5)
	if s.rot {
		a.Rotary = scaleByPos{}
	}
	if s.qkn {
		a.QNorm = headNorm{b.Sub("q_norm").Param("weight", LayerNormKind, Init{Kind: InitOnes}, s.hs)}
		a.KNorm = headNorm{b.Sub("k_norm").Param("weight", LayerNormKind, Init{Kind: InitOnes}, s.hs)}
	}
	return a
}

// TestAttentionFusedMatchesPlain runs the layer's fused kernel against Attend, the composition
// written out, for every layout of the projections (fused or separate, grouped KV heads, head
// sizes that are not C/NH, rotation, QK-norm), self- and cross-attention, causal or not, padded
// keys, comparing outputs and the gradients of every parameter and input.
func TestAttentionFusedMatchesPlain(t *testing.T) {
	rng := newRNG(5)
	for _, ac := range attnCases() {
		for _, s := range []struct {
			b, tq, tk         int
			self, causal, pad bool
		}{
			{2, 5, 5, true, false, true},
			{2, 5, 5, true, true, true},
			{1, 33, 33, true, true, false},
			{3, 4, 7, false, false, true},
			{1, 1, 9, false, false, false},
			{2, 7, 3, false, false, false},
		} {
			t.Run(fmt.Sprintf("%s %+v", ac.name, s), func(t *testing.T) {
				xv := tensor.RandNormal(rng, 0, 1, s.b, s.tq, ac.c)
				mv := tensor.RandNormal(rng, 0, 1, s.b, s.tk, ac.c)
				proj := tensor.RandNormal(rng, 0, 1, s.b, s.tq, ac.c)
				var pad []bool
				if s.pad {
					pad = make([]bool, s.b*s.tk)
					for bi := range s.b {
						for j := s.tk - bi; j < s.tk; j++ { // row bi has bi padding positions
							pad[bi*s.tk+j] = true
						}
					}
				}
				run := func(plain bool) ([]float32, map[string][]float32) {
					b := NewBuilder(randomSource(9), nil)
					a := newTestAttention(b, ac, s.causal)
					x, mem := autograd.Param(xv.Clone()), autograd.Param(mv.Clone())
					in := AttnInput{KeyPad: pad, Mem: mem}
					if s.self {
						in.Mem = nil
					}
					var y *autograd.Var
					if plain {
						q, k, v := a.project(x, in, new([]*autograd.Var))
						y, _ = Attend(q, k, v, a.spec(pad), Dropout{})
						y = a.Out.Forward(y)
					} else {
						y = a.Forward(x, in)
					}
					y.BackwardWith(proj)
					grads := map[string][]float32{"x": x.Grad().Values()}
					if !s.self {
						grads["mem"] = mem.Grad().Values()
					}
					for _, p := range b.Params() {
						grads[p.Name()] = p.Grad().Values()
					}
					return y.Value.Values(), grads
				}
				fy, fg := run(false)
				py, pg := run(true)
				assertAllClose(t, "output", py, fy, 1e-5)
				require.Equal(t, len(pg), len(fg))
				for name, g := range pg {
					assertAllClose(t, "gradient of "+name, g, fg[name], 5e-5)
				}
			})
		}
	}
}

// TestKVCacheRowsOfDifferentLengths decodes two sequences of different lengths together, each
// row at its own position, and compares every step with each sequence run alone without a
// cache; the cache grows past its first room on the way, and Reorder then swaps the rows.
func TestKVCacheRowsOfDifferentLengths(t *testing.T) {
	for _, ac := range attnCases() {
		t.Run(ac.name, func(t *testing.T) {
			b := NewBuilder(randomSource(11), nil)
			newTestAttention(b, ac, true)
			fb := NewBuilder(Shared(b.Params(), true), nil)
			a := newTestAttention(fb, ac, true)
			require.NoError(t, fb.Err())
			rng := newRNG(12)
			const total = 40 // past the first room of 16 positions
			seqs := []*tensor.Tensor{tensor.RandNormal(rng, 0, 1, 1, total, ac.c), tensor.RandNormal(rng, 0, 1, 1, total, ac.c)}
			full := []*tensor.Tensor{
				a.Forward(autograd.Const(seqs[0]), AttnInput{}).Value,
				a.Forward(autograd.Const(seqs[1]), AttnInput{}).Value,
			}
			// prefill 3 and 9 positions alone, then step both rows together
			lens := []int{3, 9}
			batch := NewKVCache(2)
			for r, n := range lens {
				one := &KVCache{}
				y := a.Forward(autograd.Const(seqs[r].Narrow(1, 0, n)), AttnInput{Cache: one}).Value
				assertAllClose(t, "prefill", full[r].Narrow(1, 0, n).Values(), y.Values(), 1e-5)
				batch.SetRow(r, one)
			}
			assert.Equal(t, lens, batch.Lens())
			for step := range total - 9 {
				x := tensor.Concat(0, seqs[0].Narrow(1, lens[0]+step, 1), seqs[1].Narrow(1, lens[1]+step, 1))
				y := a.Forward(autograd.Const(x), AttnInput{Cache: batch}).Value
				for r := range 2 {
					assertAllClose(t, fmt.Sprintf("row %d step %d", r, step), full[r].Narrow(1, lens[r]+step, 1).Values(), y.Index(0, r).Values(), 1e-5)
				}
			}
			assert.Equal(t, []int{total - 6, total}, batch.Lens())
			batch.Reorder([]int{1, 0})
			assert.Equal(t, []int{total, total - 6}, batch.Lens())
			assert.Equal(t, []int{total, total - 6}, batch.Positions(2, 1), "the positions of each row's next step")
		})
	}
}

// TestKVCacheIsForInference: a cache on layers that train panics with a message.
func TestKVCacheIsForInference(t *testing.T) {
	b := NewBuilder(randomSource(13), nil)
	a := newTestAttention(b, attnCases()[0], true)
	x := autograd.Const(tensor.Ones(1, 2, 12))
	assert.PanicsWithValue(t, "nn.KVCache: queries of shape [1 2 12] require a gradient, but a KV cache is for inference: run a Frozen copy of the layers",
		func() { a.Forward(x, AttnInput{Cache: &KVCache{}}) })
}

// TestAttentionKernelMatchesAttend compares the fused kernel with Attend on their own, forward
// and backward, where the causal block skipping has several blocks of queries and keys and the
// queries are the last Tq of Tk positions: grouped KV heads, odd sizes, padded keys.
func TestAttentionKernelMatchesAttend(t *testing.T) {
	rng := newRNG(14)
	for _, s := range []struct{ b, tq, tk, nh, nkv, hs int }{
		{2, 40, 75, 4, 2, 5}, {1, 70, 70, 3, 1, 7}, {3, 1, 33, 2, 2, 4}, {1, 127, 130, 2, 1, 3},
		// one query (a decoding step) on the vector kernels' head sizes, grouped and not
		{2, 1, 37, 6, 2, 64}, {3, 1, 5, 4, 1, 16}, {1, 1, 130, 2, 2, 80},
	} {
		pad := make([]bool, s.b*s.tk)
		for i := range pad {
			pad[i] = rng.IntN(5) == 0 && i%s.tk < s.tk-s.tq // never a query's own position
		}
		for _, a := range []tensor.Attn{{Heads: s.nh, KVHeads: s.nkv, Causal: true}, {Heads: s.nh, KVHeads: s.nkv, Causal: true, KeyPad: pad}} {
			qv := tensor.RandNormal(rng, 0, 1, s.b, s.tq, s.nh*s.hs)
			kv := tensor.RandNormal(rng, 0, 1, s.b, s.tk, s.nkv*s.hs)
			vv := tensor.RandNormal(rng, 0, 1, s.b, s.tk, s.nkv*s.hs)
			proj := tensor.RandNormal(rng, 0, 1, s.b, s.tq, s.nh*s.hs)
			run := func(plain bool) [][]float32 {
				q, k, v := autograd.Param(qv.Clone()), autograd.Param(kv.Clone()), autograd.Param(vv.Clone())
				var y *autograd.Var
				if plain {
					y, _ = Attend(q, k, v, a, Dropout{})
				} else {
					y = autograd.Attention(q, k, v, a)
				}
				y.BackwardWith(proj)
				return [][]float32{y.Value.Values(), q.Grad().Values(), k.Grad().Values(), v.Grad().Values()}
			}
			fused, plain := run(false), run(true)
			for i, what := range []string{"y", "dq", "dk", "dv"} {
				assertAllClose(t, fmt.Sprintf("%+v pad=%v %s", s, a.KeyPad != nil, what), plain[i], fused[i], 5e-5)
			}
		}
	}
}

// A cache told how far it will go allocates its room once: appending that many positions one
// at a time keeps the same storage (without Reserve it moves at 16 and again at 32).
func TestKVCacheReserveAllocatesOnce(t *testing.T) {
	for _, reserve := range []bool{false, true} {
		c := NewKVCache(1)
		if reserve {
			c.Reserve(40)
		}
		k := tensor.Ones(1, 1, 6)
		c.append(k, k)
		first := &c.k.Data()[0]
		moved := 0
		for range 39 {
			c.append(k, k)
			if &c.k.Data()[0] != first {
				moved++
				first = &c.k.Data()[0]
			}
		}
		if reserve {
			assert.Zero(t, moved, "reserved")
			assert.Equal(t, 40, c.k.Dim(1), "exactly the room asked for")
		} else {
			assert.Equal(t, 2, moved, "doubling")
		}
	}
}
