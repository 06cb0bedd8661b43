package optim

import "math"

// CosineSchedule is nanoGPT's learning-rate schedule (get_lr in train.py): a linear warmup over
// WarmupIters iterations, then a cosine decay from MaxLR down to MinLR, reached at iteration
// DecayIters and kept after it.
//
//	it < WarmupIters:   MaxLR·(it+1)/(WarmupIters+1)
//	it ≥ DecayIters:    MinLR
//	otherwise:          MinLR + ½(1 + cos(π·r))·(MaxLR − MinLR),  r = (it−WarmupIters)/(DecayIters−WarmupIters)
type CosineSchedule struct {
	WarmupIters int
	DecayIters  int
	MaxLR       float32
	MinLR       float32
}

// LR returns the learning rate for iteration it (counting from 0), computed in float64.
func (s CosineSchedule) LR(it int) float32 {
	maxLR, minLR := decimal(s.MaxLR), decimal(s.MinLR)
	if it < s.WarmupIters {
		return float32(maxLR * float64(it+1) / float64(s.WarmupIters+1))
	}
	// nanoGPT returns MinLR only after DecayIters, but at DecayIters its cosine is exactly at
	// MinLR already; testing ≥ also avoids dividing by zero when DecayIters == WarmupIters.
	if it >= s.DecayIters {
		return float32(minLR)
	}
	r := float64(it-s.WarmupIters) / float64(s.DecayIters-s.WarmupIters)
	coeff := 0.5 * (1 + math.Cos(math.Pi*r))
	return float32(minLR + coeff*(maxLR-minLR))
}
