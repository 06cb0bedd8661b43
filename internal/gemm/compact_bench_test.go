package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkCompactDecode times the products of a GPT-2 small decode step with compact weights
// (M rows of activations times an (out, in) weight in bf16 or int8, float32 for comparison) and
// reports the rate at which the weights stream, in the bytes each format holds: mean and best
// call (on a shared machine the best is closer to the code's own speed).
func BenchmarkCompactDecode(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{1, 8, 32} {
		for _, s := range []struct {
			name string
			n, k int
		}{{"attn", 2304, 768}, {"proj", 768, 3072}, {"head", 50257, 768}} {
			a := randSlice(rng, m*s.k)
			w := randSlice(rng, s.n*s.k)
			c := make([]float32, m*s.n)
			bf := NewBF16(w, s.n, s.k)
			i8, err := NewInt8(w, s.n, s.k)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range []string{"float32", "bf16", "int8"} {
				b.Run(fmt.Sprintf("m=%d/%s/%s", m, s.name, f), func(b *testing.B) {
					bytes := float64(4 * s.n * s.k)
					run := func() { Sgemm(false, true, m, s.n, s.k, a, s.k, w, s.k, c, s.n, false) }
					switch f {
					case "bf16":
						bytes = float64(bf.Bytes())
						run = func() { MulCompactT(m, a, s.k, bf, c, s.n) }
					case "int8":
						bytes = float64(i8.Bytes())
						run = func() { MulCompactT(m, a, s.k, i8, c, s.n) }
					}
					best := time.Duration(1 << 62)
					for b.Loop() {
						t0 := time.Now()
						run()
						best = min(best, time.Since(t0))
					}
					b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
					b.ReportMetric(bytes/best.Seconds()/1e9, "best-GB/s")
				})
			}
		}
	}
}
