package model

import "fmt"

// Sampler chooses tokens from logits one at a time, exactly as Generate does with the same
// Sampling (seed included): for programs that run the decoding steps themselves, such as a server
// that decodes many requests in one batch. Sampling.MaxNew and Stop are the caller's to apply.
type Sampler struct {
	smp   *sampler
	vocab int
}

// NewSampler returns a Sampler for a vocabulary of vocab tokens, or the error that makes s
// invalid.
func NewSampler(s Sampling, vocab int) (*Sampler, error) {
	if err := s.validate(vocab); err != nil {
		return nil, err
	}
	return &Sampler{smp: newSampler(s), vocab: vocab}, nil
}

// Next returns the token chosen from logits (vocab long). Logits that are not finite (a model
// whose training diverged) are an error, as in Generate.
func (s *Sampler) Next(logits []float32) (int, error) {
	if len(logits) != s.vocab {
		return 0, fmt.Errorf("model: sampler for %d tokens given %d logits", s.vocab, len(logits))
	}
	if i := firstNonFinite(logits); i >= 0 {
		return 0, fmt.Errorf("model: logit %d is %v: the weights are not finite (did training diverge?)", i, logits[i])
	}
	return s.smp.next(logits), nil
}
