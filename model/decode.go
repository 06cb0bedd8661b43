package model

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// Step-wise decoding, for programs that schedule the steps themselves: a server decodes many
// requests in one batch, and requests join and leave between steps. It runs on the same rows of
// KV caches and the same blocks as Generate and GenerateBatch.

// Sequence is one sequence being decoded by a Decoder.
type Sequence struct {
	n   int
	own []*nn.KVCache // its prefilled caches, until it joins the batch
}

// Len returns the number of positions the sequence holds (prompt and generated tokens).
func (s *Sequence) Len() int { return s.n }

// Decoder runs prefills and batched decoding steps on a frozen view of a model. One goroutine
// at a time may use it.
type Decoder struct {
	m      *GPT          // frozen
	caches []*nn.KVCache // one per block: a row per sequence of rows
	rows   []*Sequence
	row    rowStepper // for steps without a graph
}

// NewDecoder returns a Decoder over a frozen view of m (a compact view stays compact).
func (m *GPT) NewDecoder() *Decoder { return &Decoder{m: m.Frozen()} }

// Start prefills prompt (1 to BlockSize tokens) alone into a new Sequence and returns it with the
// logits (V) of the prompt's last position.
func (d *Decoder) Start(prompt []int) (*Sequence, []float32, error) {
	m := d.m
	if len(prompt) == 0 {
		return nil, nil, errors.New("model: empty prompt")
	}
	if err := m.checkInput(prompt, 1, len(prompt), 0); err != nil {
		return nil, nil, err
	}
	// as Generate does: all but the last token prefilled, then the last one as a step, so that a
	// sequence computes the same logits however it is decoded
	s := &Sequence{n: len(prompt), own: m.newCaches(1)}
	if n := len(prompt) - 1; n > 0 {
		m.trunk(prompt[:n], 1, n, s.own, nil)
	}
	x := m.trunk(prompt[len(prompt)-1:], 1, 1, s.own, nil) // (1, 1, C)
	return s, m.logits(m.LnF.Forward(x)).Value.Contiguous().Data(), nil
}

// Step appends ids[i] to seqs[i], running all of them through the model as one batch, and
// returns each sequence's next logits (V). seqs are the sequences still decoding, in any order:
// a sequence that was in the last step but is not in this one leaves the batch. A full
// sequence (BlockSize positions), a sequence given twice or an id outside the vocabulary is an
// error, and no sequence changes.
func (d *Decoder) Step(seqs []*Sequence, ids []int) ([][]float32, error) {
	m := d.m
	if len(seqs) != len(ids) {
		return nil, fmt.Errorf("model: %d sequences and %d ids", len(seqs), len(ids))
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	for i, s := range seqs {
		switch {
		case s.n >= m.Config.BlockSize:
			return nil, fmt.Errorf("model: sequence %d holds %d positions, the whole context", i, s.n)
		case ids[i] < 0 || ids[i] >= m.Config.VocabSize:
			return nil, fmt.Errorf("model: token id %d is outside the vocabulary [0, %d)", ids[i], m.Config.VocabSize)
		case slices.Index(seqs, s) != i:
			return nil, fmt.Errorf("model: sequence %d is given twice", i)
		}
	}
	d.arrange(seqs)
	var x *autograd.Var // (B, 1, C)
	if d.row.ready(m) {
		x = m.stepRow(ids, d.caches, &d.row.scratch)
	} else {
		x = m.trunk(ids, len(seqs), 1, d.caches, nil)
	}
	all := m.finalLogits(x).Value.Contiguous().Data() // (B·V)
	v := m.Config.VocabSize
	out := make([][]float32, len(seqs))
	for i, s := range seqs {
		s.n++
		out[i] = all[i*v : (i+1)*v : (i+1)*v]
	}
	return out, nil
}

// arrange makes the caches' rows hold seqs in order: rows of sequences that left are dropped,
// sequences new to the batch have their prefilled caches copied into their rows.
func (d *Decoder) arrange(seqs []*Sequence) {
	if slices.Equal(d.rows, seqs) {
		return
	}
	order := make([]int, len(seqs)) // for each new row, the old row it keeps (0 for a newcomer)
	for i, s := range seqs {
		order[i] = max(0, slices.Index(d.rows, s))
	}
	if len(d.rows) == 0 {
		d.caches = d.m.newCaches(len(seqs))
	} else {
		for _, c := range d.caches {
			c.Reorder(order)
		}
	}
	for i, s := range seqs {
		if s.own == nil {
			continue
		}
		for l, c := range d.caches {
			c.SetRow(i, s.own[l])
		}
		s.own = nil // its cache now lives in the batch
	}
	d.rows = slices.Clone(seqs)
}

// Embed returns the mean over positions of the final hidden states (after the last norm) of
// ids, scaled to unit length: a sentence embedding (C).
func (d *Decoder) Embed(ids []int) ([]float32, error) {
	m := d.m
	if err := m.checkInput(ids, 1, len(ids), 0); err != nil {
		return nil, err
	}
	h := m.LnF.Forward(m.trunk(ids, 1, len(ids), nil, nil)).Value.Contiguous().Data() // (1, T, C)
	c := m.Config.NEmbd
	mean := make([]float64, c)
	for t := range len(ids) {
		for j, x := range h[t*c : (t+1)*c] {
			mean[j] += float64(x)
		}
	}
	var ss float64
	for _, x := range mean {
		ss += x * x
	}
	out := make([]float32, c)
	if ss == 0 {
		return out, nil
	}
	inv := 1 / math.Sqrt(ss)
	for j, x := range mean {
		out[j] = float32(x * inv)
	}
	return out, nil
}
