package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkCausalAttention times the fused attention's forward and backward passes at nanoGPT's
// CPU config (B 12, T 64, C 128, NH 4) and at the "baby GPT" (B 64, T 256, C 384, NH 6).
func BenchmarkCausalAttention(b *testing.B) {
	for _, s := range []struct{ b, t, c, nh int }{{12, 64, 128, 4}, {64, 256, 384, 6}} {
		rng := rand.New(rand.NewPCG(1, 2))
		qkv := RandNormal(rng, 0, 1, s.b, s.t, 3*s.c)
		dy := RandNormal(rng, 0, 1, s.b, s.t, s.c)
		b.Run(fmt.Sprintf("B%d_T%d_C%d_NH%d", s.b, s.t, s.c, s.nh), func(b *testing.B) {
			for b.Loop() {
				_, p := CausalAttention(qkv, s.nh)
				CausalAttentionBackward(dy, qkv, p, s.nh)
			}
		})
	}
}
