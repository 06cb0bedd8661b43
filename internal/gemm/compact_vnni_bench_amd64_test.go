//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/goformer/goformer/internal/machine"
)

// BenchmarkDecodeDotKernels times a GPT-2 small decode step's compact products (one row of
// activations): int8 with the activations quantised onto VPDPBUSD and bf16 with them rounded
// onto VDPBF16PS ("dot"), against the same weights widened to float32 ("widen"), in alternation
// (-count), and reports the weights' streaming rate, with the machine's read bandwidth measured
// in the same run for the head (38 MiB of int8, out of cache).
//
//	go test ./internal/gemm -run '^$' -bench DecodeDotKernels -count 3
func BenchmarkDecodeDotKernels(b *testing.B) {
	if !compactVNNI || !compactBF16Dot || compactLevel != compactAVX512 {
		b.Skip("no AVX512-VNNI and AVX512-BF16")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		name string
		n, k int
	}{{"attn", 2304, 768}, {"proj", 768, 3072}, {"head", 50257, 768}} {
		a := randSlice(rng, s.k)
		wf := randSlice(rng, s.n*s.k)
		i8, err := NewInt8(wf, s.n, s.k)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range []*Compact{i8, NewBF16(wf, s.n, s.k)} {
			c := make([]float32, s.n)
			for _, dot := range []bool{true, false} {
				name := map[bool]string{true: "dot", false: "widen"}[dot]
				b.Run(fmt.Sprintf("%s/%v/%s", s.name, w.Format(), name), func(b *testing.B) {
					defer func(v, d bool) { compactVNNI, compactBF16Dot = v, d }(compactVNNI, compactBF16Dot)
					compactVNNI, compactBF16Dot = dot, dot
					best := time.Duration(1 << 62)
					for b.Loop() {
						t0 := time.Now()
						MulCompactT(1, a, s.k, w, c, s.n)
						best = min(best, time.Since(t0))
					}
					bytes := float64(w.Bytes())
					b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
					b.ReportMetric(bytes/best.Seconds()/1e9, "best-GB/s")
					if s.name == "head" && w.Format() == Int8 {
						b.ReportMetric(machine.ReadBandwidth(Workers(), 256<<20), "read-GB/s")
					}
				})
			}
		}
	}
}
