package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// Sampling says how Generate picks each new token. The zero value (with MaxNew set) is greedy
// decoding.
type Sampling struct {
	// MaxNew is the most tokens to generate (0 generates none).
	MaxNew int
	// Temperature divides the logits before sampling; 0 picks the most likely token (argmax,
	// the lowest id on a tie) and ignores TopK, TopP and Seed.
	Temperature float32
	// TopK, when positive, samples only among the K most likely tokens.
	TopK int
	// TopP, when in (0, 1), samples only among the smallest set of most likely tokens whose
	// probabilities (after Temperature and TopK) add up to at least TopP (nucleus sampling).
	// 0 and 1 keep every token.
	TopP float32
	// Seed seeds the sampler: the same model, prompt and Sampling give the same tokens.
	Seed uint64
	// Stop lists token ids that end generation. The stop token itself is not yielded.
	Stop []int
}

// validate checks s against a vocabulary of v tokens.
func (s Sampling) validate(v int) error {
	var errs []error
	if s.MaxNew < 0 {
		errs = append(errs, fmt.Errorf("MaxNew must be >= 0, got %d", s.MaxNew))
	}
	if !(s.Temperature >= 0) || math.IsInf(float64(s.Temperature), 1) {
		errs = append(errs, fmt.Errorf("Temperature must be finite and >= 0, got %v", s.Temperature))
	}
	if s.TopK < 0 {
		errs = append(errs, fmt.Errorf("TopK must be >= 0, got %d", s.TopK))
	}
	if !(s.TopP >= 0 && s.TopP <= 1) {
		errs = append(errs, fmt.Errorf("TopP must be in [0, 1], got %v", s.TopP))
	}
	for _, id := range s.Stop {
		if id < 0 || id >= v {
			errs = append(errs, fmt.Errorf("stop token %d is outside the vocabulary [0, %d)", id, v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("model: invalid sampling: %w", err)
	}
	return nil
}

// Generate continues prompt by up to s.MaxNew tokens, yielding each new token as it is chosen
// (the prompt is not yielded). It stops early at a stop token, and when ctx is done, in which
// case it yields ctx's error. A bad prompt (empty, or an id outside the vocabulary) or a bad
// Sampling is yielded as an error before any token.
//
// Each layer keeps the keys and values of the positions seen so far (nn.KVCache), so a new token
// costs one position's forward pass, not the whole sequence's. A prompt longer than BlockSize is
// cropped to its last BlockSize tokens; once the sequence outgrows BlockSize, each step runs the
// last BlockSize tokens afresh, as nanoGPT's generate does.
//
// Generation runs on a frozen view of the model: it records no gradients, uses no dropout and
// changes nothing in the model. Many generations may run at once, in any goroutines. To generate
// while another goroutine trains the model, generate from a Snapshot the trainer takes between
// steps: reading weights while an optimiser writes them is a data race.
//
// Logits that are not finite (a model whose training diverged) end generation with an error.
func (m *GPT) Generate(ctx context.Context, prompt []int, s Sampling) iter.Seq2[int, error] {
	return m.generate(ctx, prompt, s, true)
}

// GenerateAll runs Generate to the end and returns the new tokens (without the prompt). On an
// error it returns the tokens generated so far with the error.
func (m *GPT) GenerateAll(ctx context.Context, prompt []int, s Sampling) ([]int, error) {
	var out []int
	for tok, err := range m.Generate(ctx, prompt, s) {
		if err != nil {
			return out, err
		}
		out = append(out, tok)
	}
	return out, nil
}

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
	err := m.run(ctx, prompts, s, true, func(r, tok int) bool {
		out[r] = append(out[r], tok)
		return true
	})
	return out, err
}

// generate is Generate, with the KV cache optional so that tests and benchmarks can compare
// against recomputing the whole context for every token.
func (m *GPT) generate(ctx context.Context, prompt []int, s Sampling, useCache bool) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		stopped := false
		err := m.run(ctx, [][]int{prompt}, s, useCache, func(_, tok int) bool {
			stopped = !yield(tok, nil)
			return !stopped
		})
		if err != nil && !stopped {
			yield(0, err)
		}
	}
}

// run continues the prompts together, one row of a decoder each, and passes each new token of
// prompt r to emit, which may end everything by returning false. A prompt ends at a stop token
// or after s.MaxNew tokens. Bad prompts or Sampling, ctx ending and non-finite logits are errors.
func (m *GPT) run(ctx context.Context, prompts [][]int, s Sampling, useCache bool, emit func(r, tok int) bool) error {
	where := func(r int) string { // which prompt, when there are several
		if len(prompts) == 1 {
			return ""
		}
		return fmt.Sprintf("prompt %d: ", r)
	}
	for r, p := range prompts {
		if len(p) == 0 {
			return fmt.Errorf("model: %sempty prompt", where(r))
		}
		for i, id := range p {
			if id < 0 || id >= m.Config.VocabSize {
				return fmt.Errorf("model: %stoken id %d at position %d is outside the vocabulary [0, %d)", where(r), id, i, m.Config.VocabSize)
			}
		}
	}
	if err := s.validate(m.Config.VocabSize); err != nil {
		return err
	}
	dec := newDecoder(m.Frozen(), prompts, useCache)
	for _, c := range dec.caches {
		c.Reserve(m.cacheRoom(prompts, s.MaxNew))
	}
	smps := make([]*sampler, len(prompts))
	active := make([]int, len(prompts)) // the prompt of each row of dec
	for r := range active {
		active[r], smps[r] = r, newSampler(s)
	}
	for n := 0; n < s.MaxNew && len(active) > 0; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var keep []int // rows still generating
		var err error
		for i, logits := range dec.next() {
			r := active[i]
			if j := firstNonFinite(logits); j >= 0 {
				err = errors.Join(err, fmt.Errorf("model: %slogit %d is %v at generation step %d: the weights are not finite (did training diverge?)", where(r), j, logits[j], n))
				continue
			}
			tok := smps[r].next(logits)
			if slices.Contains(s.Stop, tok) {
				continue
			}
			if !emit(r, tok) {
				return nil
			}
			dec.seqs[i] = append(dec.seqs[i], tok)
			keep = append(keep, i)
		}
		if err != nil {
			return err
		}
		if len(keep) < len(active) {
			for j, i := range keep {
				active[j] = active[i]
			}
			active = active[:len(keep)]
			dec.keep(keep)
		}
	}
	return nil
}

// maxReservedCache bounds the KV cache a generation allocates at once for one layer (2 MiB:
// 1365 positions of SmolLM2-135M, 341 of GPT-2; 60 MB for SmolLM2's 30 layers), since a run
// may stop long before MaxNew: past it (a long context, many rows), the cache grows by doubling
// as far as the run really goes. Allocating once made a SmolLM2-shaped GenerateAll of 30 tokens
// 3-12% faster (the median step does not change: each doubling slows one step, into fresh memory).
const maxReservedCache = 2 << 20

// cacheRoom is the room per row to Reserve in each layer's KV cache for generating maxNew
// tokens after prompts: every position the run can reach (the longest prompt and the new
// tokens, at most the context), within maxReservedCache.
func (m *GPT) cacheRoom(prompts [][]int, maxNew int) int {
	longest := 0
	for _, p := range prompts {
		longest = max(longest, len(p))
	}
	perPosition := 2 * 4 * m.Config.nKVHead() * m.Config.headDim() * len(prompts) // keys and values of every row
	return min(longest+maxNew, m.Config.BlockSize, maxReservedCache/max(perPosition, 1))
}

// decoder runs a frozen GPT over a batch of sequences, one new token per sequence and step, with
// one KV cache per block (a row per sequence, each row at its own position): Generate decodes
// one sequence with it, GenerateBatch many.
//
// Each step feeds every row its newest token. A row whose cache does not hold the rest of its
// sequence (the first step, or the window sliding past BlockSize) is first prefilled alone,
// with its sequence but the newest token, into a cache of its own that is then copied into its
// row. So a row computes what it would alone, whatever the batch.
type decoder struct {
	m        *GPT          // a frozen view
	seqs     [][]int       // each row's tokens so far
	caches   []*nn.KVCache // one per block
	useCache bool          // without, every step runs each row's whole window afresh (the reference)
	last     *autograd.Var // the logits the last step returned, recycled by the next
	rows     rowStepper    // for steps without a graph
}

func newDecoder(fm *GPT, seqs [][]int, useCache bool) *decoder {
	d := &decoder{m: fm, useCache: useCache}
	for _, s := range seqs {
		d.seqs = append(d.seqs, slices.Clone(s))
	}
	d.caches = fm.newCaches(len(seqs))
	return d
}

// next returns the logits (V) of each row's next token, valid until the next call.
func (d *decoder) next() [][]float32 {
	m, block, rows := d.m, d.m.Config.BlockSize, len(d.seqs)
	out := make([][]float32, rows)
	if !d.useCache {
		for r, seq := range d.seqs {
			win := seq[max(0, len(seq)-block):]
			x := m.trunk(win, 1, len(win), nil, nil) // (1, T, C)
			x = autograd.Narrow(x, 1, len(win)-1, 1) // (1, 1, C): generation needs one row of the head
			out[r] = m.logits(m.LnF.Forward(x)).Value.Contiguous().Data()
		}
		return out
	}
	lens := d.caches[0].Lens()
	ids := make([]int, rows)
	for r, seq := range d.seqs {
		win := seq[max(0, len(seq)-block):]
		ids[r] = win[len(win)-1]
		if len(seq) <= block && lens[r] == len(seq)-1 {
			continue
		}
		// (re)prefill alone: the first step, or the window slid past BlockSize
		var one []*nn.KVCache
		if n := len(win) - 1; n > 0 {
			one = m.newCaches(1)
			m.trunk(win[:n], 1, n, one, nil)
		}
		for l, c := range d.caches {
			var src *nn.KVCache
			if one != nil {
				src = one[l]
			}
			c.SetRow(r, src)
		}
	}
	// the last step's logits, which the caller has read by now, go back for this step's
	autograd.Discard(d.last)
	if d.rows.ready(m) {
		d.last = m.finalLogits(m.stepRow(ids, d.caches, &d.rows.scratch))
	} else {
		d.last = m.finalLogits(m.trunk(ids, rows, 1, d.caches, nil))
	}
	logits := d.last.Value.Contiguous().Data() // (B·V)
	v := m.Config.VocabSize
	for r := range out {
		out[r] = logits[r*v : (r+1)*v]
	}
	return out
}

// keep drops every row but rows, in this order.
func (d *decoder) keep(rows []int) {
	seqs := make([][]int, len(rows))
	for i, r := range rows {
		seqs[i] = d.seqs[r]
	}
	d.seqs = seqs
	for _, c := range d.caches {
		c.Reorder(rows)
	}
}

// sampler turns logits into token ids according to a Sampling.
type sampler struct {
	s   Sampling
	rng *rand.Rand
	// scratch, reused across tokens
	cand  []int
	probs []float64
	pairs []tokenProb
}

func newSampler(s Sampling) *sampler {
	return &sampler{s: s, rng: rand.New(rand.NewPCG(s.Seed, 0x73616d706c65))} // "sample"
}

// next picks a token from logits (V).
func (sm *sampler) next(logits []float32) int {
	if sm.s.Temperature == 0 {
		return argmax(logits)
	}
	cand, probs := sm.filter(logits)
	u := sm.rng.Float64()
	acc := 0.0
	for i, p := range probs {
		acc += p
		if u < acc {
			return cand[i]
		}
	}
	return cand[len(cand)-1] // u fell in the rounding slack above the last cumulative sum
}

// filter applies temperature, top-k and top-p to logits and returns the candidate ids with their
// renormalised probabilities. With TopK or TopP set, candidates come most likely first (lower id
// first among equals); otherwise they are all ids in order, which avoids sorting the vocabulary
// for every token.
func (sm *sampler) filter(logits []float32) ([]int, []float64) {
	cand := sm.cand[:0]
	sorted := false
	if k := sm.s.TopK; k > 0 && k < len(logits) {
		cand = topK(cand, logits, k)
		sorted = true
	} else {
		for i := range logits {
			cand = append(cand, i)
		}
	}
	// Softmax in float64 over the kept logits, after dividing by the temperature.
	top := float32(math.Inf(-1))
	for _, id := range cand {
		top = max(top, logits[id])
	}
	probs := sm.probs[:0]
	inv := 1 / float64(sm.s.Temperature)
	sum := 0.0
	for _, id := range cand {
		p := math.Exp((float64(logits[id]) - float64(top)) * inv)
		probs = append(probs, p)
		sum += p
	}
	for i := range probs {
		probs[i] /= sum
	}
	if p := float64(sm.s.TopP); p > 0 && p < 1 {
		if !sorted {
			cand, probs = sm.sortNucleusCandidates(cand, probs, p)
		}
		cand, probs = topP(cand, probs, p)
	}
	sm.cand, sm.probs = cand, probs
	return cand, probs
}

// sortNucleusCandidates returns, most likely first, the tokens that may belong to the top-p
// nucleus. The last token of the nucleus is preceded by less than p of the mass, so it and the
// tokens after it hold more than 1−p, and as none of those V or fewer tokens is more likely than
// it, its probability exceeds (1−p)/V. Tokens at or below that bound are dropped before sorting,
// which for a trained model's peaked distribution leaves a small fraction of the vocabulary.
func (sm *sampler) sortNucleusCandidates(cand []int, probs []float64, p float64) ([]int, []float64) {
	bound := (1 - p) / float64(len(cand))
	pairs := sm.pairs[:0]
	for i, id := range cand {
		if probs[i] > bound {
			pairs = append(pairs, tokenProb{probs[i], id})
		}
	}
	slices.SortFunc(pairs, func(a, b tokenProb) int {
		if c := cmp.Compare(b.p, a.p); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	cand, probs = cand[:0], probs[:0]
	for _, tp := range pairs {
		cand = append(cand, tp.id)
		probs = append(probs, tp.p)
	}
	sm.pairs = pairs
	return cand, probs
}

type tokenProb struct {
	p  float64
	id int
}

// better orders tokens most likely first, the lower id first among equal logits.
func better(logits []float32, a, b int) bool {
	return logits[a] > logits[b] || logits[a] == logits[b] && a < b
}

// sortByLogit sorts ids most likely first.
func sortByLogit(ids []int, logits []float32) {
	slices.SortFunc(ids, func(a, b int) int {
		if c := cmp.Compare(logits[b], logits[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// topK appends to dst the k most likely ids, most likely first. A min-heap of the best k seen so
// far makes this O(V log k), instead of sorting all V.
func topK(dst []int, logits []float32, k int) []int {
	h := dst[:0]
	down := func(i int) {
		for {
			l, small := 2*i+1, i
			if l < len(h) && better(logits, h[small], h[l]) {
				small = l
			}
			if r := l + 1; r < len(h) && better(logits, h[small], h[r]) {
				small = r
			}
			if small == i {
				return
			}
			h[i], h[small] = h[small], h[i]
			i = small
		}
	}
	for id := range logits {
		switch {
		case len(h) < k:
			h = append(h, id)
			for i := len(h) - 1; i > 0; { // sift up
				parent := (i - 1) / 2
				if !better(logits, h[parent], h[i]) {
					break
				}
				h[i], h[parent] = h[parent], h[i]
				i = parent
			}
		case better(logits, id, h[0]):
			h[0] = id
			down(0)
		}
	}
	sortByLogit(h, logits)
	return h
}

// topP keeps the shortest prefix of cand (sorted most likely first) whose probabilities add up
// to at least p, and renormalises it.
func topP(cand []int, probs []float64, p float64) ([]int, []float64) {
	acc := 0.0
	n := len(probs)
	for i, q := range probs {
		acc += q
		if acc >= p {
			n = i + 1
			break
		}
	}
	cand, probs = cand[:n], probs[:n]
	for i := range probs {
		probs[i] /= acc
	}
	return cand, probs
}

// argmax returns the index of the largest value, the first one on a tie (as torch.argmax).
// firstNonFinite returns the index of the first NaN or infinite value of x, or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if v-v != 0 { // NaN - NaN and Inf - Inf are NaN; finite - itself is 0
			return i
		}
	}
	return -1
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
