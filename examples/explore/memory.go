package main

import (
	"fmt"
	"net/http"
)

// The memory a training request would take, estimated before anything is allocated, so that a
// request within the form's bounds (8 layers, 512 wide, context 256, batch 64) cannot take the
// machine's memory: such a run took about 10 GB.

// maxTrainBytes is the most a training run may need: what a laptop can spare.
const maxTrainBytes = 3 << 30

// memEstimate is a training run's memory, in bytes, by what holds it.
type memEstimate struct {
	Params      int64 // the weights and their gradients
	Optimizer   int64 // AdamW's two moments
	Activations int64 // what one step's forward pass keeps for its backward pass
}

func (m memEstimate) total() int64 { return m.Params + m.Optimizer + m.Activations }

// estimateMemory estimates cfg's memory for a vocabulary of v tokens. The activations are what
// autograd keeps per layer for each of the B×T positions: about 20 vectors of C (the layer norms'
// inputs and outputs, q, k and v, the heads' output, the residual sums, the MLP's 4C hidden
// layer before and after GELU) and one row of T attention weights per head (the fused attention
// kernel keeps only the softmax for its backward pass); then the final norm's output, the logits
// and their softmax. Fitted to and checked against a real step's live heap in TestMemoryEstimate
// (per position, each added layer kept 20C + NH·T floats, each added token of vocabulary 2).
func estimateMemory(cfg trainConfig, v int) memEstimate {
	c, l, nh := int64(cfg.NEmbd), int64(cfg.NLayer), int64(cfg.NHead)
	b, t, vv := int64(cfg.BatchSize), int64(cfg.BlockSize), int64(v)
	params := vv*c + t*c + l*(12*c*c+13*c) + 2*c
	perLayer := b * t * (20*c + nh*t)
	acts := l*perLayer + b*t*(c+2*vv)
	return memEstimate{Params: 4 * 2 * params, Optimizer: 4 * 2 * params, Activations: 4 * acts}
}

// checkMemory refuses a run whose estimate is over maxTrainBytes, saying what it would take.
func checkMemory(cfg trainConfig, v int) error {
	m := estimateMemory(cfg, v)
	if m.total() <= maxTrainBytes {
		return nil
	}
	return &httpError{code: http.StatusBadRequest, msg: fmt.Sprintf(
		"this run would need about %s of memory (weights and gradients %s, AdamW's state %s, activations for batch %d × context %d: %s); the page allows %s: lower the batch, the context, the width or the layers",
		gb(m.total()), gb(m.Params), gb(m.Optimizer), cfg.BatchSize, cfg.BlockSize, gb(m.Activations), gb(maxTrainBytes))}
}

func gb(n int64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
}

// vocabBound is the most tokens cfg's tokenizer can have on text, known before tokenizing: the
// distinct characters for a char vocabulary, the asked size for a BPE.
func vocabBound(cfg trainConfig, text string) int {
	if cfg.Tokenizer == "bpe" {
		return cfg.BPEVocab
	}
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	return len(seen)
}
