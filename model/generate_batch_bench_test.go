package model

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goformer/goformer/internal/gemm"
)

// BenchmarkGenerateBatch times greedy GenerateBatch of 16 new tokens after 8-token prompts, at
// 1, 8 and 32 prompts, for nanoGPT's CPU config and GPT-2 small's size, and reports the new
// tokens per second over all prompts (best iteration; the time includes each prompt's
// prefill), and the rate of the 15 decode steps after the first token.
func BenchmarkGenerateBatch(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"small", Config{VocabSize: 65, BlockSize: 64, NLayer: 4, NHead: 4, NEmbd: 128}},
		{"gpt2", Config{VocabSize: 50257, BlockSize: 1024, NLayer: 12, NHead: 12, NEmbd: 768, GELUTanh: true}},
	} {
		m, err := New(c.cfg, 1)
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range []int{1, 8, 32} {
			prompts := make([][]int, batch)
			for i := range prompts {
				prompts[i] = []int{1 + i%7, 2, 3, 4, 5, 6, 7, 8}
			}
			const n = 16
			b.Run(fmt.Sprintf("%s/batch=%d", c.name, batch), func(b *testing.B) {
				// also timed: the prefill and first token alone, to report the decode steps'
				// own rate (best of the iterations for each)
				bestAll, bestFirst := time.Duration(1<<62), time.Duration(1<<62)
				for b.Loop() {
					t0 := time.Now()
					if _, err := m.GenerateBatch(context.Background(), prompts, Sampling{MaxNew: n}); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if _, err := m.GenerateBatch(context.Background(), prompts, Sampling{MaxNew: 1}); err != nil {
						b.Fatal(err)
					}
					bestAll, bestFirst = min(bestAll, t1.Sub(t0)), min(bestFirst, time.Since(t1))
				}
				b.ReportMetric(float64(n*batch)/bestAll.Seconds(), "best-tok/s")
				b.ReportMetric(float64((n-1)*batch)/(bestAll-bestFirst).Seconds(), "decode-tok/s")
			})
		}
	}
}

// BenchmarkDecodeStepGPT2 times the steps of greedy generation with the KV cache on a model of
// GPT-2 small's size (after the prefill of an 8-token prompt), with its weight matrices in each
// format (float32, and the bf16 and int8 views Compact makes), and reports the best and median
// step as tokens per second, and the rate the best step streams the weight matrices every token
// reads (every Linear weight and the tied head, in the bytes the format holds): on a shared
// machine the best step is the closest to the code's own speed. Where the CPU has the
// dot-product decode kernels (AVX512-VNNI / BF16), bf16 and int8 are also timed with them off
// ("-widen"); -count alternates the variants.
func BenchmarkDecodeStepGPT2(b *testing.B) {
	benchDecodeSteps(b, Config{VocabSize: 50257, BlockSize: 1024, NLayer: 12, NHead: 12, NEmbd: 768, GELUTanh: true}, 20)
}

// BenchmarkDecodeStepSmolLM2 is BenchmarkDecodeStepGPT2 on a model of SmolLM2-135M's shape (30
// layers, 576 wide, 9 query and 3 KV heads of 64, SwiGLU 1536 wide, vocabulary 49152, tied head):
// 210 matrix products a token, each small, so the cost of sharing one between cores shows.
func BenchmarkDecodeStepSmolLM2(b *testing.B) {
	benchDecodeSteps(b, smolLM2Shape, 20)
}

// BenchmarkDecodeStepSmolLM2Long is BenchmarkDecodeStepSmolLM2 over 256 new tokens rather than
// 20: the steps attend to up to 264 cached positions, so the attention over the cache (and the
// cache's growth) weighs as in a real answer.
func BenchmarkDecodeStepSmolLM2Long(b *testing.B) {
	benchDecodeSteps(b, smolLM2Shape, 256)
}

var smolLM2Shape = Config{VocabSize: 49152, BlockSize: 2048, NLayer: 30, NHead: 9, NEmbd: 576, NoBias: true,
	Positions: PositionsRotary, RopeTheta: 100000, Norm: NormRMSNorm, FeedForward: FeedForwardSwiGLU,
	FFHidden: 1536, NKVHead: 3}

// benchDecodeSteps times the steps of greedy generations of maxNew tokens after an 8-token prompt.
func benchDecodeSteps(b *testing.B, cfg Config, maxNew int) {
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	type variant struct {
		f     WeightFormat
		widen bool // with the dot-product kernels off (gemm.UseDotKernels), where the CPU has them
	}
	variants := []variant{{Float32, false}, {BFloat16, false}, {Int8, false}}
	if gemm.UseDotKernels(true) {
		variants = append(variants, variant{BFloat16, true}, variant{Int8, true})
	}
	for _, vt := range variants {
		f := vt.f
		v, err := m.Compact(f)
		if err != nil {
			b.Fatal(err)
		}
		weightBytes := float64(v.matrixBytes())
		name := f.String()
		if vt.widen {
			name += "-widen"
		}
		b.Run(name, func(b *testing.B) {
			gemm.UseDotKernels(!vt.widen)
			defer gemm.UseDotKernels(true)
			var steps []time.Duration
			for b.Loop() {
				t0 := time.Now()
				first := true
				for _, err := range v.Generate(context.Background(), []int{1, 2, 3, 4, 5, 6, 7, 8}, Sampling{MaxNew: maxNew}) {
					if err != nil {
						b.Fatal(err)
					}
					if t := time.Now(); !first {
						steps = append(steps, t.Sub(t0))
						t0 = t
					} else {
						first, t0 = false, t
					}
				}
			}
			slices.Sort(steps)
			best, med := steps[0], steps[len(steps)/2]
			b.ReportMetric(1/best.Seconds(), "best-tok/s")
			b.ReportMetric(1/med.Seconds(), "median-tok/s")
			b.ReportMetric(weightBytes/best.Seconds()/1e9, "best-GB/s")
			b.ReportMetric(weightBytes/1e6, "MB/token")
		})
	}
}

// matrixBytes returns the bytes of the weight matrices a decode step streams (those Compact
// converts), as m holds them.
func (m *GPT) matrixBytes() int {
	n := 0
	seen := map[*gemm.Compact]bool{} // a stacked matrix once (stackSiblings)
	for _, s := range specs(m.Config) {
		if !compactable(s) {
			continue
		}
		if w, ok := m.compact[s.Name]; ok {
			if !seen[w.w] {
				seen[w.w] = true
				n += w.Bytes()
			}
		} else {
			n += 4 * s.Shape[0] * s.Shape[1]
		}
	}
	return n
}

// BenchmarkDecoderSteps times a Decoder's batched steps, as a server runs them: 1, 4 or 8
// sequences of prompts of 6 to 8 tokens (rows of different lengths), 20 steps each, for models
// of GPT-2 small's and SmolLM2-135M's shapes in float32 and int8, and reports the median step's
// new tokens per second over the batch.
func BenchmarkDecoderSteps(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"gpt2", Config{VocabSize: 50257, BlockSize: 1024, NLayer: 12, NHead: 12, NEmbd: 768, GELUTanh: true}}, {"smollm2", smolLM2Shape}} {
		m, err := New(c.cfg, 1)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range []WeightFormat{Float32, Int8} {
			v, err := m.Compact(f)
			if err != nil {
				b.Fatal(err)
			}
			for _, batch := range []int{1, 4, 8} {
				b.Run(fmt.Sprintf("%s/%v/batch=%d", c.name, f, batch), func(b *testing.B) {
					var steps []time.Duration
					for b.Loop() {
						d := v.NewDecoder()
						seqs, ids := make([]*Sequence, batch), make([]int, batch)
						for i := range seqs {
							prompt := []int{1 + i, 2, 3, 4, 5, 6, 7, 8}[:8-i%3]
							if seqs[i], _, err = d.Start(prompt); err != nil {
								b.Fatal(err)
							}
							ids[i] = 5
						}
						for range 20 {
							t0 := time.Now()
							if _, err := d.Step(seqs, ids); err != nil {
								b.Fatal(err)
							}
							steps = append(steps, time.Since(t0))
						}
					}
					slices.Sort(steps)
					b.ReportMetric(float64(batch)/steps[len(steps)/2].Seconds(), "median-tok/s")
				})
			}
		}
	}
}
