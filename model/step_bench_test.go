package model

import (
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/autograd"
)

// BenchmarkTrainStepSmall times one forward + backward pass of nanoGPT's CPU config
// (4 layers, 4 heads, 128 wide, block 64, batch 12, vocab 65), the step the shakespeare
// example repeats.
func BenchmarkTrainStepSmall(b *testing.B) {
	cfg := Config{VocabSize: 65, BlockSize: 64, NLayer: 4, NHead: 4, NEmbd: 128}
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
		m.ZeroGrad()
		loss.Backward()
		autograd.Release(loss)
	}
	b.ReportMetric(float64(batch*t)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
