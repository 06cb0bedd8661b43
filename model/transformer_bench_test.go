package model

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/optim"
)

// benchTransformerConfigs are the configurations bench/compare_transformer.sh times against
// PyTorch's nn.Transformer (bench/torch_transformer.py builds the same models): the paper's
// post-LN layers with ReLU, 2 + 2 layers, and
//   - translate: examples/translate's model, 64 wide, 4 heads, feed-forward 128, vocabularies of
//     40, batches of 64 sources of 12 tokens and targets of 11;
//   - medium: 128 wide, 4 heads, feed-forward 512, vocabularies of 1000, batches of 32 sources
//     and targets of 32 tokens.
var benchTransformerConfigs = []struct {
	name      string
	cfg       TransformerConfig
	b, ts, tt int
}{
	{"translate", TransformerConfig{
		SrcVocabSize: 40, TgtVocabSize: 40, DModel: 64, NHead: 4, NumEncoderLayers: 2, NumDecoderLayers: 2,
		DimFeedforward: 128, Activation: "relu", MaxLen: 64, PadID: 0, BosID: 1, EosID: 2,
	}, 64, 12, 11},
	{"medium", TransformerConfig{
		SrcVocabSize: 1000, TgtVocabSize: 1000, DModel: 128, NHead: 4, NumEncoderLayers: 2, NumDecoderLayers: 2,
		DimFeedforward: 512, Activation: "relu", MaxLen: 64, PadID: 0, BosID: 1, EosID: 2,
	}, 32, 32, 32},
}

// BenchmarkTransformerTrainStep times one training step of each benchTransformerConfigs entry:
// forward, loss, backward, gradient clipping and an AdamW step.
func BenchmarkTransformerTrainStep(b *testing.B) {
	for _, bc := range benchTransformerConfigs {
		b.Run(bc.name, func(b *testing.B) { benchTransformerStep(b, bc.cfg, bc.b, bc.ts, bc.tt) })
	}
}

func benchTransformerStep(b *testing.B, cfg TransformerConfig, batch, ts, tt int) {
	m, err := NewTransformer(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ids := func(n, v int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = 3 + rng.IntN(v-3)
		}
		return out
	}
	src, tgtIn, tgtOut := ids(batch*ts, cfg.SrcVocabSize), ids(batch*tt, cfg.TgtVocabSize), ids(batch*tt, cfg.TgtVocabSize)
	for i := 0; i < len(tgtIn); i += tt {
		tgtIn[i] = cfg.BosID
	}
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-4})
	step := func() {
		loss, err := m.Loss(src, tgtIn, tgtOut, batch)
		if err != nil {
			b.Fatal(err)
		}
		loss.Backward()
		optim.ClipGradNorm(m.Parameters(), 1)
		opt.Step()
		opt.ZeroGrad()
		autograd.Release(loss)
	}
	for range 3 { // warm the buffer pools
		step()
	}
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/step")
	// CPU time (all threads) is the steadier figure on a machine shared with other work
	b.ReportMetric((processCPU()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/step")
}

// processCPU returns the user + system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
