package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkThinDecode times the products of one GPT-2 small decode step (M rows of activations
// times a PyTorch-layout (out, in) weight) and reports the rate at which the weights stream,
// mean and best call (on a shared machine the best is closer to the code's own speed).
func BenchmarkThinDecode(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	defer func(v int) { thinMaxMT = v }(thinMaxMT)
	for _, m := range []int{1, 4, 8, 16, 32} {
		for _, s := range []struct {
			name string
			n, k int
		}{{"attn", 2304, 768}, {"fc", 3072, 768}, {"proj", 768, 3072}, {"head", 50257, 768}, {"small-attn", 384, 128}, {"small-proj", 128, 512},
			// SmolLM2-135M's: q and o, k or v, gate or up, down
			{"smol-q", 576, 576}, {"smol-kv", 192, 576}, {"smol-up", 1536, 576}, {"smol-down", 576, 1536}} {
			a := randSlice(rng, m*s.k)
			w := randSlice(rng, s.n*s.k)
			c := make([]float32, m*s.n)
			for _, path := range []string{"thin", "blocked"} {
				if m < thinMaxM && path == "blocked" {
					continue
				}
				b.Run(fmt.Sprintf("m=%d/%s/%s", m, s.name, path), func(b *testing.B) {
					thinMaxMT = 3
					if path == "thin" {
						thinMaxMT = m
					}
					best := time.Duration(1 << 62)
					for b.Loop() {
						t0 := time.Now()
						Sgemm(false, true, m, s.n, s.k, a, s.k, w, s.k, c, s.n, false)
						best = min(best, time.Since(t0))
					}
					b.ReportMetric(float64(4*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
					b.ReportMetric(float64(4*s.n*s.k)/best.Seconds()/1e9, "best-GB/s")
				})
			}
		}
	}
}
