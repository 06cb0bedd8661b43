package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tensor"
)

// randomPad returns B·Tk padding flags, padded on the right, each row keeping at least one key.
func randomPad(rng *rand.Rand, b, tk int) []bool {
	pad := make([]bool, b*tk)
	for bi := range b {
		keep := 1 + rng.IntN(tk)
		for j := keep; j < tk; j++ {
			pad[bi*tk+j] = true
		}
	}
	return pad
}

// composedCrossAttention is attention of q (B, Tq, C) over k, v (B, Tk, C) built from the
// elementary ops: the reference for the fused Attention.
func composedCrossAttention(q, k, v *Var, nh int, causal bool, pad []bool) *Var {
	b, tq, c := q.Shape()[0], q.Shape()[1], q.Shape()[2]
	tk := k.Shape()[1]
	hs := c / nh
	heads := func(p *Var, t int) *Var { return Permute(Reshape(p, b, t, nh, hs), 0, 2, 1, 3) } // (B, NH, T, HS)
	att := Scale(MatMulT(heads(q, tq), heads(k, tk)), float32(1/math.Sqrt(float64(hs))))       // (B, NH, Tq, Tk)
	if causal {
		att = CausalMask(att)
	}
	if pad != nil {
		bias := tensor.Zeros(b, 1, 1, tk)
		for i, padded := range pad {
			if padded {
				bias.Data()[i] = float32(math.Inf(-1))
			}
		}
		att = Add(att, Const(bias))
	}
	y := MatMul(Softmax(att), heads(v, tk))          // (B, NH, Tq, HS)
	return Reshape(Permute(y, 0, 2, 1, 3), b, tq, c) // (B, Tq, C)
}

func TestGrad_Attention(t *testing.T) {
	rng := newRNG(31)
	for _, s := range []struct {
		b, tq, tk, nh, hs int
		causal, pad       bool
	}{
		{2, 3, 5, 2, 3, false, false},
		{2, 4, 4, 1, 4, true, false},
		{3, 2, 6, 3, 2, false, true},
		{2, 3, 5, 2, 2, true, true}, // queries are the last 3 of 5 positions
		{1, 1, 1, 1, 1, false, false},
	} {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			var pad []bool
			if s.pad {
				pad = randomPad(rng, s.b, s.tk)
			}
			c := s.nh * s.hs
			checkGrad(t, func(v []*Var) *Var {
				return Attention(v[0], v[1], v[2], tensor.Attn{Heads: s.nh, Causal: s.causal, KeyPad: pad})
			},
				randn(rng, s.b, s.tq, c), randn(rng, s.b, s.tk, c), randn(rng, s.b, s.tk, c))
		})
	}
}

// TestAttentionCrossFusedMatchesComposed checks the fused kernel against the composition on odd
// and round sizes, with q, k and v read in place from fused projections as the layers pass them.
func TestAttentionCrossFusedMatchesComposed(t *testing.T) {
	rng := newRNG(32)
	for _, s := range [][4]int{{2, 7, 3, 3}, {1, 33, 17, 4}, {3, 1, 5, 2}, {2, 64, 64, 4}, {4, 9, 127, 1}} {
		b, tq, tk, nh := s[0], s[1], s[2], s[3]
		c := nh * 8
		for _, mode := range []struct{ causal, pad bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
			if mode.causal && tk < tq {
				continue
			}
			var pad []bool
			if mode.pad {
				pad = randomPad(rng, b, tk)
			}
			xq := tensor.RandNormal(rng, 0, 1, b, tq, c)
			xkv := tensor.RandNormal(rng, 0, 1, b, tk, 2*c)
			proj := tensor.RandNormal(rng, 0, 1, b, tq, c)
			run := func(fused bool) (*Var, *Var, *Var) {
				q, kv := Param(xq.Clone()), Param(xkv.Clone())
				parts := Split(kv, 2, c, c) // views into the fused (B, Tk, 2C) projection
				var y *Var
				if fused {
					y = Attention(q, parts[0], parts[1], tensor.Attn{Heads: nh, Causal: mode.causal, KeyPad: pad})
				} else {
					y = composedCrossAttention(q, parts[0], parts[1], nh, mode.causal, pad)
				}
				y.BackwardWith(proj)
				return y, q, kv
			}
			fy, fq, fkv := run(true)
			cy, cq, ckv := run(false)
			what := fmt.Sprintf("%v causal=%v pad=%v", s, mode.causal, mode.pad)
			assertAllClose(t, what+" forward", cy.Value.Values(), fy.Value.Values(), 1e-5, 1e-5)
			assertAllClose(t, what+" dq", cq.Grad().Values(), fq.Grad().Values(), 2e-5, 2e-5)
			assertAllClose(t, what+" dkv", ckv.Grad().Values(), fkv.Grad().Values(), 2e-5, 2e-5)
		}
	}
}

func TestAttentionNoVisibleKeyGivesZero(t *testing.T) {
	q := Const(tensor.Ones(1, 2, 2))
	kv := Const(tensor.Ones(1, 2, 2))
	y := Attention(q, kv, kv, tensor.Attn{Heads: 1, KeyPad: []bool{true, true}})
	assert.Equal(t, []float32{0, 0, 0, 0}, y.Value.Values())
	assert.Panics(t, func() { Attention(q, kv, kv, tensor.Attn{Heads: 1, KeyPad: []bool{true}}) }, "wrong number of flags")
	assert.Panics(t, func() { Attention(q, kv, kv, tensor.Attn{Heads: 3}) }, "C not divisible by heads")
}

func assertAllClose(t *testing.T, what string, want, got []float32, atol, rtol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for i := range want {
		if d := math.Abs(float64(want[i] - got[i])); !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}
