package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// nanoGPTLR is get_lr from nanoGPT's train.py, transcribed independently (float64 throughout).
func nanoGPTLR(it, warmupIters, lrDecayIters int, learningRate, minLR float64) float64 {
	if it < warmupIters {
		return learningRate * float64(it+1) / float64(warmupIters+1)
	}
	if it > lrDecayIters {
		return minLR
	}
	decayRatio := float64(it-warmupIters) / float64(lrDecayIters-warmupIters)
	coeff := 0.5 * (1.0 + math.Cos(math.Pi*decayRatio))
	return minLR + coeff*(learningRate-minLR)
}

func TestCosineSchedule(t *testing.T) {
	s := CosineSchedule{WarmupIters: 100, DecayIters: 5000, MaxLR: 6e-4, MinLR: 6e-5}
	for _, it := range []int{0, 1, 50, 99, 100, 101, 1000, 2550, 4999, 5000, 5001, 100000} {
		want := nanoGPTLR(it, 100, 5000, 6e-4, 6e-5)
		assert.InDelta(t, want, float64(s.LR(it)), 1e-7*want, "iteration %d", it) // float32 rounding
	}
	// Landmarks by hand: the first warmup step, the top, the middle of the decay, the floor.
	assert.InDelta(t, 6e-4/101, float64(s.LR(0)), 1e-12)
	assert.InDelta(t, 6e-4, float64(s.LR(100)), 1e-10)
	assert.InDelta(t, (6e-4+6e-5)/2, float64(s.LR(2550)), 1e-10)
	assert.Equal(t, float32(6e-5), s.LR(5000))
	assert.Equal(t, float32(6e-5), s.LR(1<<30))

	// No warmup, and decay ending where warmup ends (nanoGPT would divide by zero there).
	assert.Equal(t, float32(1), CosineSchedule{DecayIters: 10, MaxLR: 1}.LR(0))
	flat := CosineSchedule{WarmupIters: 4, DecayIters: 4, MaxLR: 1, MinLR: 0.5}
	assert.InDelta(t, 0.8, float64(flat.LR(3)), 1e-7)
	assert.Equal(t, float32(0.5), flat.LR(4))
}
