package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// Decoding says how Translate produces each output, as Sampling says how a GPT generates: the
// zero value (with MaxNew set) decodes greedily, and MaxNew 0 decodes nothing, in both.
type Decoding struct {
	// MaxNew is the most tokens an output may have, its EOS included, at most max_len − 1 (the
	// target's BOS takes position 0); 0 decodes none (as Sampling.MaxNew).
	MaxNew int
	// Beam is the beam size; 0 or 1 decodes greedily (the argmax at each step).
	Beam int
	// LengthPenalty is α in the score of a finished beam hypothesis, log P / length^α (length
	// counts its tokens and its EOS, as in fairseq and Hugging Face): 0 ranks by log-probability
	// alone, which favours short outputs; 1 ranks by mean log-probability per token.
	LengthPenalty float64
}

// Hypothesis is one decoded output.
type Hypothesis struct {
	Tokens  []int   // the generated ids, without BOS and EOS
	Ended   bool    // whether the model produced EOS (else MaxNew ran out)
	LogProb float64 // the sum of the log-probabilities of Tokens (and of EOS when Ended)
	Score   float64 // LogProb / length^LengthPenalty, what beam search ranks by
}

// validate checks d against the model and returns MaxNew.
func (d Decoding) validate(cfg TransformerConfig) (int, error) {
	var errs []error
	if d.MaxNew < 0 || d.MaxNew > cfg.MaxLen-1 {
		errs = append(errs, fmt.Errorf("MaxNew must be in [0, max_len − 1 = %d], got %d", cfg.MaxLen-1, d.MaxNew))
	}
	if d.Beam < 0 || d.Beam > cfg.TgtVocabSize {
		errs = append(errs, fmt.Errorf("Beam must be in [0, %d] (the vocabulary), got %d", cfg.TgtVocabSize, d.Beam))
	}
	if math.IsNaN(d.LengthPenalty) || math.IsInf(d.LengthPenalty, 0) {
		errs = append(errs, fmt.Errorf("LengthPenalty must be finite, got %v", d.LengthPenalty))
	}
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("model: invalid decoding: %w", err)
	}
	return d.MaxNew, nil
}

// Translate decodes each source (a sequence of source ids, without padding) into a target
// sequence, all sources in one batch: greedily, or by beam search with d.Beam hypotheses per
// source. Outputs start from BOS and end at EOS or after d.MaxNew tokens.
//
// The encoder runs once per batch; each decoder layer's cross-attention keys and values are
// computed from its output once, and its self-attention keys and values are cached, so a step
// costs one position's work. Decoding runs on a frozen view: it records no graph, uses no
// dropout and changes nothing in m, and many decodings may run at once in any goroutines. To
// decode while another goroutine trains m, decode from a Snapshot the trainer takes between
// steps: reading weights while an optimiser writes them is a data race.
//
// Bad input (no sources, an empty or too long source, an unknown id, a bad Decoding) is an
// error, as are ctx ending and logits that are not finite (a model whose training diverged).
func (m *Transformer) Translate(ctx context.Context, srcs [][]int, d Decoding) ([]Hypothesis, error) {
	return m.translate(ctx, srcs, d, true)
}

// translate is Translate with the caches optional (greedy only), so that tests can compare them
// with recomputing the whole decoder at every step.
func (m *Transformer) translate(ctx context.Context, srcs [][]int, d Decoding, useCache bool) ([]Hypothesis, error) {
	maxNew, err := d.validate(m.Config)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, errors.New("model: no sources to translate")
	}
	ts := 0
	for i, s := range srcs {
		if len(s) == 0 {
			return nil, fmt.Errorf("model: source %d is empty", i)
		}
		ts = max(ts, len(s))
	}
	if ts > m.Config.MaxLen {
		return nil, fmt.Errorf("model: a source of %d tokens is longer than max_len %d", ts, m.Config.MaxLen)
	}
	b := len(srcs)
	flat := make([]int, 0, b*ts) // (B, Ts), padded on the right
	for _, s := range srcs {
		flat = append(flat, s...)
		for range ts - len(s) {
			flat = append(flat, m.Config.PadID)
		}
	}
	_, pad, err := m.checkIDs("source", flat, b, m.Config.SrcVocabSize)
	if err != nil {
		return nil, err
	}
	fm := m.Frozen()
	mem := fm.encode(flat, b, ts, pad, nil) // (B, Ts, C)
	if d.Beam <= 1 {
		return fm.greedy(ctx, mem, pad, b, maxNew, d.LengthPenalty, useCache)
	}
	return fm.beamSearch(ctx, mem, pad, b, ts, maxNew, d)
}

// decoderState is a batch of partial outputs being decoded, one per row, with the layers'
// caches.
type decoderState struct {
	m             *Transformer
	mem           *autograd.Var // (rows, Ts, C)
	memPad        []bool
	caches, cross []*nn.KVCache // per layer: the self-attention's and the cross-attention's
}

func (m *Transformer) newDecoderState(mem *autograd.Var, memPad []bool) *decoderState {
	s := &decoderState{m: m, mem: mem, memPad: memPad}
	for _, l := range m.Decoder {
		s.caches, s.cross = append(s.caches, &nn.KVCache{}), append(s.cross, l.Cross.CrossCache(mem))
	}
	return s
}

// step feeds one token per row at position pos and returns the log-probabilities (rows, V) of
// the next token, in float64.
func (s *decoderState) step(tokens []int, pos int) ([][]float64, error) {
	m, rows := s.m, len(tokens)
	x := m.embed(m.TgtEmbed, tokens, rows, 1, pos) // (rows, 1, C)
	for i, l := range m.Decoder {
		x = l.Forward(x, nn.BlockInput{Cache: s.caches[i], CrossCache: s.cross[i], MemPad: s.memPad})
	}
	return logSoftmaxRows(m.Generator.Forward(m.DecoderNorm.Forward(x)).Value, rows, pos)
}

// logSoftmaxRows returns log-softmax of each row of logits (rows, 1, V) in float64; a logit
// that is not finite (a model whose training diverged) is an error, where an argmax would
// silently pick token 0. pos is the decoding step, for the message.
func logSoftmaxRows(logits *tensor.Tensor, rows, pos int) ([][]float64, error) {
	data := logits.Contiguous().Data()
	if i := firstNonFinite(data); i >= 0 {
		return nil, fmt.Errorf("model: logit %d of row %d is %v at decoding step %d: the weights are not finite (did training diverge?)", i%(len(data)/rows), i/(len(data)/rows), data[i], pos)
	}
	v := len(data) / rows
	out := make([][]float64, rows)
	for r := range rows {
		row := data[r*v : (r+1)*v]
		top := float64(slices.Max(row))
		sum := 0.0
		for _, x := range row {
			sum += math.Exp(float64(x) - top)
		}
		lse := top + math.Log(sum)
		lp := make([]float64, v)
		for j, x := range row {
			lp[j] = float64(x) - lse
		}
		out[r] = lp
	}
	return out, nil
}

// greedy decodes each row by taking the most likely token at every step (the first on a tie,
// as torch.argmax).
func (m *Transformer) greedy(ctx context.Context, mem *autograd.Var, memPad []bool, b, maxNew int, alpha float64, useCache bool) ([]Hypothesis, error) {
	bos, eos := m.Config.BosID, m.Config.EosID
	hyps := make([]Hypothesis, b)
	done := make([]bool, b)
	left := b
	st := m.newDecoderState(mem, memPad)
	seqs := make([][]int, b) // the target inputs so far, BOS first
	for r := range seqs {
		seqs[r] = []int{bos}
	}
	for pos := 0; pos < maxNew && left > 0; pos++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var lps [][]float64
		var err error
		if useCache {
			last := make([]int, b)
			for r, s := range seqs {
				last[r] = s[len(s)-1]
			}
			lps, err = st.step(last, pos)
		} else {
			lps, err = m.stepUncached(mem, memPad, seqs)
		}
		if err != nil {
			return nil, err
		}
		for r, lp := range lps {
			tok := argmax64(lp)
			seqs[r] = append(seqs[r], tok) // a finished row keeps going, unread: the batch stays whole
			if done[r] {
				continue
			}
			h := &hyps[r]
			h.LogProb += lp[tok]
			if tok == eos {
				h.Ended, done[r] = true, true
				left--
				continue
			}
			h.Tokens = append(h.Tokens, tok)
		}
	}
	for r := range hyps {
		hyps[r].Score = lengthNormalised(hyps[r], alpha)
	}
	return hyps, nil
}

// stepUncached runs the whole decoder over the target inputs so far (all the same length) and
// returns the log-probabilities of each row's next token: the reference for the cached path.
func (m *Transformer) stepUncached(mem *autograd.Var, memPad []bool, seqs [][]int) ([][]float64, error) {
	b, t := len(seqs), len(seqs[0])
	flat := slices.Concat(seqs...)
	h := m.decode(mem, memPad, flat, b, t, nil, nil)           // (B, T, C)
	last := m.Generator.Forward(autograd.Narrow(h, 1, t-1, 1)) // (B, 1, V)
	return logSoftmaxRows(last.Value, b, t-1)
}

// lengthNormalised is h's beam score: log P / length^α, the length counting EOS.
func lengthNormalised(h Hypothesis, alpha float64) float64 {
	n := len(h.Tokens)
	if h.Ended {
		n++
	}
	if alpha == 0 || n == 0 {
		return h.LogProb
	}
	return h.LogProb / math.Pow(float64(n), alpha)
}

func argmax64(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// beam is one live hypothesis of beam search.
type beam struct {
	tokens  []int // generated so far, without BOS
	logProb float64
}

// beamSearch keeps, for each source, the k most likely partial outputs (rows s·k .. s·k+k−1 of
// the batch), extends each by every token, and keeps the k best extensions that do not end; an
// extension ending in EOS among the best k becomes a finished hypothesis. A source is done when
// it has k finished hypotheses and no live one can still beat the worst of them at its current
// length (Hugging Face's heuristic); at MaxNew the live ones join the finished ones. Each source
// returns its best hypothesis by Score.
func (m *Transformer) beamSearch(ctx context.Context, mem *autograd.Var, memPad []bool, b, ts, maxNew int, d Decoding) ([]Hypothesis, error) {
	k, alpha, eos := d.Beam, d.LengthPenalty, m.Config.EosID
	rows := make([]int, b*k) // every source repeated k times
	for i := range rows {
		rows[i] = i / k
	}
	var pad []bool
	if memPad != nil {
		pad = make([]bool, 0, b*k*ts)
		for _, r := range rows {
			pad = append(pad, memPad[r*ts:(r+1)*ts]...)
		}
	}
	st := m.newDecoderState(mem, pad)
	for _, c := range st.cross {
		c.Reorder(rows) // the memory's keys and values, computed once per source, shared by its beams
	}
	beams := make([]beam, b*k)
	for i := range beams {
		if i%k != 0 {
			beams[i].logProb = math.Inf(-1) // only one live beam at the start: no duplicates
		}
	}
	finished := make([][]Hypothesis, b)
	done := make([]bool, b)
	tokens := make([]int, b*k)
	for i := range tokens {
		tokens[i] = m.Config.BosID
	}
	type cand struct {
		score float64
		row   int
		tok   int
	}
	var cands []cand
	for pos := 0; pos < maxNew; pos++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lps, err := st.step(tokens, pos)
		if err != nil {
			return nil, err
		}
		reorder := make([]int, b*k)
		next := make([]beam, b*k)
		for s := range b {
			if done[s] {
				for j := range k { // keep the rows as they are: unread
					reorder[s*k+j] = s*k + j
					next[s*k+j] = beams[s*k+j]
				}
				continue
			}
			// the best 2k extensions over the source's k beams (at most k of them end in EOS)
			cands = cands[:0]
			for j := range k {
				r := s*k + j
				if math.IsInf(beams[r].logProb, -1) {
					continue
				}
				for tok, lp := range lps[r] {
					cands = append(cands, cand{beams[r].logProb + lp, r, tok})
				}
			}
			slices.SortFunc(cands, func(a, b cand) int {
				if c := cmp.Compare(b.score, a.score); c != 0 {
					return c
				}
				return cmp.Compare(a.row*len(lps[0])+a.tok, b.row*len(lps[0])+b.tok)
			})
			kept := 0
			for rank, c := range cands {
				if kept == k {
					break
				}
				if c.tok == eos {
					if rank < k {
						h := Hypothesis{Tokens: slices.Clone(beams[c.row].tokens), Ended: true, LogProb: c.score}
						h.Score = lengthNormalised(h, alpha)
						finished[s] = addFinished(finished[s], h, k)
					}
					continue
				}
				r := s*k + kept
				reorder[r] = c.row
				next[r] = beam{tokens: append(slices.Clone(beams[c.row].tokens), c.tok), logProb: c.score}
				kept++
			}
			for ; kept < k; kept++ { // fewer live extensions than beams (a tiny vocabulary)
				next[s*k+kept] = beam{logProb: math.Inf(-1)}
				reorder[s*k+kept] = s * k
			}
			// done once no live beam can beat the worst finished hypothesis at its current length
			if len(finished[s]) == k {
				best := next[s*k]
				cur := Hypothesis{Tokens: best.tokens, LogProb: best.logProb}
				if finished[s][k-1].Score >= lengthNormalised(cur, alpha) {
					done[s] = true
				}
			}
		}
		beams = next
		if !slices.Contains(done, false) {
			break
		}
		for _, c := range st.caches {
			c.Reorder(reorder)
		}
		for i, bm := range beams {
			tokens[i] = eos // a dead beam feeds anything
			if n := len(bm.tokens); n > 0 {
				tokens[i] = bm.tokens[n-1]
			}
		}
	}
	out := make([]Hypothesis, b)
	for s := range b {
		if !done[s] {
			for j := range k {
				bm := beams[s*k+j]
				if math.IsInf(bm.logProb, -1) {
					continue
				}
				h := Hypothesis{Tokens: bm.tokens, LogProb: bm.logProb}
				h.Score = lengthNormalised(h, alpha)
				finished[s] = addFinished(finished[s], h, k)
			}
		}
		out[s] = finished[s][0]
	}
	return out, nil
}

// addFinished inserts h into hs (sorted best first by Score) and keeps the best k.
func addFinished(hs []Hypothesis, h Hypothesis, k int) []Hypothesis {
	i, _ := slices.BinarySearchFunc(hs, h, func(a, b Hypothesis) int { return cmp.Compare(b.Score, a.Score) })
	hs = slices.Insert(hs, i, h)
	if len(hs) > k {
		hs = hs[:k]
	}
	return hs
}
