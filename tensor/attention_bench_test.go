package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAttention times the fused causal attention's forward and backward passes over a fused
// projection at nanoGPT's CPU config (B 12, T 64, C 128, NH 4) and at the "baby GPT" (B 64,
// T 256, C 384, NH 6).
func BenchmarkAttention(b *testing.B) {
	for _, s := range []struct{ b, t, c, nh int }{{12, 64, 128, 4}, {64, 256, 384, 6}} {
		rng := rand.New(rand.NewPCG(1, 2))
		qkv := RandNormal(rng, 0, 1, s.b, s.t, 3*s.c)
		q, k, v := qkv.Narrow(2, 0, s.c), qkv.Narrow(2, s.c, s.c), qkv.Narrow(2, 2*s.c, s.c)
		dy := RandNormal(rng, 0, 1, s.b, s.t, s.c)
		a := Attn{Heads: s.nh, Causal: true}
		b.Run(fmt.Sprintf("B%d_T%d_C%d_NH%d", s.b, s.t, s.c, s.nh), func(b *testing.B) {
			for b.Loop() {
				_, p := Attention(q, k, v, a)
				AttentionBackward(dy, q, k, v, p, a)
			}
		})
	}
}
