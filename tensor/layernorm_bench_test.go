package tensor

import (
	"fmt"
	"testing"
)

// BenchmarkLayerNorm times LayerNorm's forward and backward passes on the rows of nanoGPT's CPU
// config (B 12 × T 64 = 768 rows of C 128) and of the "baby GPT" (64 × 256 = 16384 rows of 384).
// The outputs go back to the free lists, as in a training step.
func BenchmarkLayerNorm(b *testing.B) {
	for _, s := range [][]int{{768, 128}, {16384, 384}} {
		x, w, bias, dy := lnCase(1, s)
		b.Run(fmt.Sprintf("rows%d_C%d", s[0], s[1]), func(b *testing.B) {
			for b.Loop() {
				y, mean, rstd := LayerNorm(x, w, bias, 1e-5)
				dx, dw, db := LayerNormBackward(dy, x, w, mean, rstd)
				for _, t := range []*Tensor{y, mean, rstd, dx, dw, db} {
					release(t)
				}
			}
		})
	}
}
