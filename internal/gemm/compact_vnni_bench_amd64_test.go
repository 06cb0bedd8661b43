//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/goformer/goformer/internal/machine"
)

// BenchmarkInt8DecodeVNNI times a GPT-2 small decode step's int8 products (one row of
// activations) with the activations quantised onto VPDPBUSD ("vnni") and with the weights
// widened to float32 ("widen"), in alternation (-count), and reports the weights' streaming rate
// next to the machine's read bandwidth measured in the same run.
//
//	go test ./internal/gemm -run '^$' -bench Int8DecodeVNNI -count 3
func BenchmarkInt8DecodeVNNI(b *testing.B) {
	if !compactVNNI || compactLevel != compactAVX512 {
		b.Skip("no AVX512-VNNI")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		name string
		n, k int
	}{{"attn", 2304, 768}, {"proj", 768, 3072}, {"head", 50257, 768}} {
		a := randSlice(rng, s.k)
		w, err := NewInt8(randSlice(rng, s.n*s.k), s.n, s.k)
		if err != nil {
			b.Fatal(err)
		}
		c := make([]float32, s.n)
		for _, vnni := range []bool{true, false} {
			name := map[bool]string{true: "vnni", false: "widen"}[vnni]
			b.Run(fmt.Sprintf("%s/%s", s.name, name), func(b *testing.B) {
				defer func(v bool) { compactVNNI = v }(compactVNNI)
				compactVNNI = vnni
				best := time.Duration(1 << 62)
				for b.Loop() {
					t0 := time.Now()
					MulCompactT(1, a, s.k, w, c, s.n)
					best = min(best, time.Since(t0))
				}
				bytes := float64(w.Bytes())
				b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				b.ReportMetric(bytes/best.Seconds()/1e9, "best-GB/s")
				if s.name == "head" {
					b.ReportMetric(machine.ReadBandwidth(Workers(), 256<<20), "read-GB/s")
				}
			})
		}
	}
}
