package model

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// GenerateBatch continues each prompt by up to s.MaxNew tokens, as GenerateAll would for each one
// alone (with the same Sampling, seed included), and returns the new tokens of each prompt. The
// prompts advance together: each step runs one token of every unfinished prompt through the
// model as one batch, so every weight matrix is read once per step for all of them, which is
// what makes many prompts at once cheaper than one after another.
//
// Each prompt is prefilled alone into its row of the model's KV caches; the steps then run the
// model's blocks over one token of every prompt, each row attending over its own cached
// positions, so prompts of different lengths need no padding. A prompt that outgrows BlockSize is
// re-prefilled alone over its last BlockSize tokens, as Generate does. A prompt stops at a stop
// token (not included) or after s.MaxNew tokens. On an error (a bad prompt or Sampling, ctx
// done, non-finite logits) GenerateBatch returns the tokens generated so far with it.
//
// Up to 32 prompts, the products compute each output the same way whatever the batch (one
// weight row against one activation row, internal/gemm's thin path), so the tokens equal
// GenerateAll's to the bit; beyond, the blocked products may round the last bits of a logit
// differently, which can only change a choice between near-equal logits.
func (m *GPT) GenerateBatch(ctx context.Context, prompts [][]int, s Sampling) ([][]int, error) {
	out := make([][]int, len(prompts))
	for r, p := range prompts {
		if len(p) == 0 {
			return out, fmt.Errorf("model: prompt %d is empty", r)
		}
		for i, id := range p {
			if id < 0 || id >= m.Config.VocabSize {
				return out, fmt.Errorf("model: prompt %d: token id %d at position %d is outside the vocabulary [0, %d)", r, id, i, m.Config.VocabSize)
			}
		}
	}
	if err := s.validate(m.Config.VocabSize); err != nil {
		return out, err
	}
	dec := newDecoder(m.Frozen(), prompts, true)
	smps := make([]*sampler, len(prompts))
	for r := range smps {
		smps[r] = newSampler(s)
	}
	active := make([]int, len(prompts)) // the prompt of each row of dec
	for r := range active {
		active[r] = r
	}
	for n := 0; n < s.MaxNew && len(active) > 0; n++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		logits := dec.next()
		var keep []int // rows still generating
		var err error
		for i, r := range active {
			if j := firstNonFinite(logits[i]); j >= 0 {
				err = errors.Join(err, fmt.Errorf("model: prompt %d: logit %d is %v at generation step %d: the weights are not finite (did training diverge?)", r, j, logits[i][j], n))
				continue
			}
			tok := smps[r].next(logits[i])
			if slices.Contains(s.Stop, tok) {
				continue
			}
			out[r] = append(out[r], tok)
			dec.seqs[i] = append(dec.seqs[i], tok)
			keep = append(keep, i)
		}
		if err != nil {
			return out, err
		}
		if len(keep) < len(active) {
			still := make([]int, len(keep))
			for j, i := range keep {
				still[j] = active[i]
			}
			active = still
			dec.keep(keep)
		}
	}
	return out, nil
}
