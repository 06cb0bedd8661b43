package model

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/autograd"
)

// BenchmarkTrainStepSmall times one forward + backward pass of nanoGPT's CPU config
// (4 layers, 4 heads, 128 wide, block 64, batch 12, vocab 65), the step the shakespeare
// example repeats.
func BenchmarkTrainStepSmall(b *testing.B) {
	benchTrainStep(b, Config{VocabSize: 65, BlockSize: 64, NLayer: 4, NHead: 4, NEmbd: 128})
}

// BenchmarkTrainStepSmallLlama is BenchmarkTrainStepSmall with the Llama family's choices:
// RMSNorm, rotary positions, a SwiGLU feed-forward of about the same weight count (3·128·344
// against GPT-2's 2·128·512), 2 KV heads for 4 query heads, no biases.
func BenchmarkTrainStepSmallLlama(b *testing.B) {
	benchTrainStep(b, Config{VocabSize: 65, BlockSize: 64, NLayer: 4, NHead: 4, NEmbd: 128, NoBias: true,
		Positions: PositionsRotary, Norm: NormRMSNorm, FeedForward: FeedForwardSwiGLU, FFHidden: 344, NKVHead: 2})
}

func benchTrainStep(b *testing.B, cfg Config) {
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	const batch, t = 12, 64
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int, batch*t)
	targets := make([]int, batch*t)
	for i := range ids {
		ids[i], targets[i] = rng.IntN(65), rng.IntN(65)
	}
	b.ResetTimer()
	for b.Loop() {
		loss, err := m.Loss(ids, targets, batch, t)
		if err != nil {
			b.Fatal(err)
		}
		zeroGrad(m)
		loss.Backward()
		autograd.Release(loss)
	}
	b.ReportMetric(float64(batch*t)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkGenerateGPT2Size times greedy generation with the KV cache on a randomly initialised
// model of GPT-2 small's size (124M parameters): 30 tokens after an 8-token prompt. Each token
// reads every weight once, so this measures the thin (one-row) matrix products.
func BenchmarkGenerateGPT2Size(b *testing.B) {
	m, err := New(Config{VocabSize: 50257, BlockSize: 1024, NLayer: 12, NHead: 12, NEmbd: 768, GELUTanh: true}, 1)
	if err != nil {
		b.Fatal(err)
	}
	const n = 30
	prompt := []int{1, 2, 3, 4, 5, 6, 7, 8}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.GenerateAll(context.Background(), prompt, Sampling{MaxNew: n}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tok/s")
}

// BenchmarkGenerateSmolLM2Size times greedy generation with the KV cache on a randomly initialised
// model of SmolLM2-135M's shape (30 layers, 576 wide, 9 query and 3 KV heads of 64, SwiGLU 1536
// wide, vocabulary 49152, tied head), in float32 and in the compact formats: 30 tokens after an
// 8-token prompt. Each token reads every weight matrix once, so tok/s × bytes of weights is the
// memory bandwidth decoding reaches.
func BenchmarkGenerateSmolLM2Size(b *testing.B) {
	m, err := New(Config{VocabSize: 49152, BlockSize: 2048, NLayer: 30, NHead: 9, NEmbd: 576, NoBias: true,
		Positions: PositionsRotary, RopeTheta: 100000, Norm: NormRMSNorm, FeedForward: FeedForwardSwiGLU,
		FFHidden: 1536, NKVHead: 3}, 1)
	if err != nil {
		b.Fatal(err)
	}
	const n = 30
	prompt := []int{1, 2, 3, 4, 5, 6, 7, 8}
	for _, f := range []WeightFormat{Float32, BFloat16, Int8} {
		v, err := m.Compact(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := v.GenerateAll(context.Background(), prompt, Sampling{MaxNew: n}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
