package main

import (
	"math/rand/v2"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/internal/torchrand"
	"github.com/goformer/goformer/model"
)

// randomness is where a run's random numbers come from: the initial weights, the start of each
// training batch's windows (a stream whose state checkpoints keep), and the fixed batches of
// each evaluation split.
//
// With -rng pytorch (the default) they are the numbers the PyTorch reference
// (../shared/bench/torch_gpt.py) draws with the same -seed: torch.manual_seed(seed) for the
// weights, torch.Generator().manual_seed(seed) for the training batches and seed+7 for the
// evaluation batches. The default run then starts from PyTorch's weights and sees PyTorch's
// batches in PyTorch's order, so its losses can be laid over the reference's step by step.
// With -rng pcg they come from goformer's own PCG generators.
type randomness struct {
	newModel func(cfg model.Config, seed uint64) (*model.GPT, error)
	// batches is the training batches' generator, saved in checkpoints; windows draws from it.
	batches checkpoint.RNGState
	windows windowSource
	// evalWindows returns a fresh generator for one split's evaluation batches: every split,
	// and every evaluation, uses the same starts.
	evalWindows func() windowSource
}

// windowSource draws the start of a batch row's window: uniform in [0, n).
type windowSource interface {
	IntN(n int) int
}

func newRandomness(kind string, seed uint64) randomness {
	if kind == "pcg" {
		src := rand.NewPCG(seed, 0x6461746120726e67) // "data rng"
		return randomness{
			newModel:    model.New,
			batches:     src,
			windows:     rand.New(src),
			evalWindows: func() windowSource { return rand.New(rand.NewPCG(seed, 7)) },
		}
	}
	g := torchrand.New(seed)
	return randomness{
		newModel:    model.NewLikePyTorch,
		batches:     g,
		windows:     torchWindows{g},
		evalWindows: func() windowSource { return torchWindows{torchrand.New(seed + 7)} },
	}
}

// torchWindows draws as torch.randint(n, ...) does, one value at a time.
type torchWindows struct{ g *torchrand.Generator }

func (w torchWindows) IntN(n int) int { return int(w.g.RandInt(int64(n))) }
