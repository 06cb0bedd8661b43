package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/goformer/goformer/nn"
)

// Step-wise decoding, for programs that schedule the steps themselves (a server that decodes
// many requests in one batch, joining and leaving between steps). Generate and GenerateBatch do
// the same steps for a caller who has all its prompts at once.

// Sequence is one sequence being decoded: its tokens and its KV caches. It belongs to the frozen
// view that started it (Decoder) and is used by one goroutine at a time.
type Sequence struct {
	n      int
	caches []*nn.KVCache
	bufs   []kvBuffer
}

// Len returns the number of positions the sequence holds (prompt and generated tokens).
func (s *Sequence) Len() int { return s.n }

// Decoder runs prefills and batched decoding steps on a frozen view of a model.
type Decoder struct {
	m *GPT // frozen
}

// NewDecoder returns a Decoder over a frozen view of m (a compact view stays compact).
func (m *GPT) NewDecoder() *Decoder { return &Decoder{m: m.Frozen()} }

// Start prefills prompt (at most BlockSize tokens) into a new Sequence and returns it with the
// logits (V) of the prompt's last position.
func (d *Decoder) Start(prompt []int) (*Sequence, []float32, error) {
	m := d.m
	if len(prompt) == 0 {
		return nil, nil, errors.New("model: empty prompt")
	}
	if err := m.checkInput(prompt, 1, len(prompt), 0); err != nil {
		return nil, nil, err
	}
	s := &Sequence{n: len(prompt), caches: make([]*nn.KVCache, len(m.H)), bufs: make([]kvBuffer, len(m.H))}
	for i := range s.caches {
		s.caches[i] = &nn.KVCache{}
	}
	logits := m.lastLogits(prompt, 0, s.caches)
	return s, logits, nil
}

// Step appends ids[i] to seqs[i], running all of them through the model as one batch, and
// returns each sequence's next logits (V). A sequence that is full (BlockSize positions) or an
// id outside the vocabulary is an error, and no sequence changes.
func (d *Decoder) Step(seqs []*Sequence, ids []int) ([][]float32, error) {
	m := d.m
	if len(seqs) != len(ids) {
		return nil, fmt.Errorf("model: %d sequences and %d ids", len(seqs), len(ids))
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	pos := make([]int, len(seqs))
	caches := make([][]*nn.KVCache, len(seqs))
	bufs := make([][]kvBuffer, len(seqs))
	for i, s := range seqs {
		if s.n >= m.Config.BlockSize {
			return nil, fmt.Errorf("model: sequence %d holds %d positions, the whole context", i, s.n)
		}
		if ids[i] < 0 || ids[i] >= m.Config.VocabSize {
			return nil, fmt.Errorf("model: token id %d is outside the vocabulary [0, %d)", ids[i], m.Config.VocabSize)
		}
		pos[i], caches[i], bufs[i] = s.n, s.caches, s.bufs
	}
	all := m.stepLogits(ids, pos, caches, bufs).Contiguous().Data() // (B·V)
	v := m.Config.VocabSize
	out := make([][]float32, len(seqs))
	for i, s := range seqs {
		s.n++
		out[i] = all[i*v : (i+1)*v : (i+1)*v]
	}
	return out, nil
}

// Embed returns the mean over positions of the final hidden states (after the last norm) of
// ids, scaled to unit length: a sentence embedding (C).
func (d *Decoder) Embed(ids []int) ([]float32, error) {
	m := d.m
	if err := m.checkInput(ids, 1, len(ids), 0); err != nil {
		return nil, err
	}
	h := m.trunk(ids, 1, len(ids), 0, nil).Value.Contiguous().Data() // (1, T, C)
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
