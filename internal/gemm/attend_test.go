package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Both kernels against float64 sums, over head sizes on and off the vector path and cache
// lengths around the four-row step, with a gap between rows (a KV head inside a wider cache)
// and guard values past every output.
func TestQueryScoresAndWeightedRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, hs := range []int{8, 16, 24, 48, 64, 80, 128, 256} {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 100} {
			ld := 3*hs + 5
			q := randSlice(rng, hs)
			k, v := randSlice(rng, (n-1)*ld+hs), randSlice(rng, (n-1)*ld+hs)
			p := randSlice(rng, n)
			for _, vector := range vectorChoices() {
				t.Run(fmt.Sprintf("hs%d/n%d/vector=%v", hs, n, vector), func(t *testing.T) {
					defer setAttendVector(vector)()
					s := make([]float32, n+1)
					s[n] = 42
					QueryScores(q, k, ld, s[:n])
					y := make([]float32, hs+1)
					y[hs] = 42
					WeightedRows(p, v, ld, y[:hs])
					if s[n] != 42 || y[hs] != 42 {
						t.Fatalf("wrote past the output: %v %v", s[n], y[hs])
					}
					for i := range n {
						var want, mag float64
						for c := range hs {
							x := float64(q[c]) * float64(k[i*ld+c])
							want, mag = want+x, mag+math.Abs(x)
						}
						if d := math.Abs(float64(s[i]) - want); d > 1e-6*mag+1e-7 {
							t.Fatalf("score %d = %v, want %v", i, s[i], want)
						}
					}
					for c := range hs {
						var want, mag float64
						for i := range n {
							x := float64(p[i]) * float64(v[i*ld+c])
							want, mag = want+x, mag+math.Abs(x)
						}
						if d := math.Abs(float64(y[c]) - want); d > 1e-6*mag+1e-7 {
							t.Fatalf("y[%d] = %v, want %v", c, y[c], want)
						}
					}
				})
			}
		}
	}
}

func BenchmarkQueryScores(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const hs, n, ld = 64, 256, 192
	q, k, s := randSlice(rng, hs), randSlice(rng, n*ld), make([]float32, n)
	for b.Loop() {
		QueryScores(q, k, ld, s)
	}
	b.ReportMetric(float64(2*hs*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkWeightedRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const hs, n, ld = 64, 256, 192
	p, v, y := randSlice(rng, n), randSlice(rng, n*ld), make([]float32, hs)
	for b.Loop() {
		WeightedRows(p, v, ld, y)
	}
	b.ReportMetric(float64(2*hs*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
