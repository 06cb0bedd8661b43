package model

import (
	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// Decoding steps of one sequence run the blocks on one reused row (nn.Block.StepRow) rather than
// as a graph of tensors: the same computation, bit for bit, without the thousands of small
// allocations a step's graph makes (on a SmolLM2-shaped model they cost 1.5 ms a token, as much
// as half the matrix products). Generate, GenerateBatch with one prompt left and a Decoder
// stepping one sequence take this path; batches of several rows and prefills take the graph's.

// rowStepper holds what a decoder needs for row steps: whether its model's blocks allow them
// (0 not asked yet, 1 yes, −1 no) and the activations' scratch.
type rowStepper struct {
	allowed int
	scratch nn.RowScratch
}

// ready reports whether steps of one sequence of m may run as rows; m is the decoder's frozen
// view, asked once.
func (r *rowStepper) ready(m *GPT) bool {
	if r.allowed == 0 {
		r.allowed = -1
		if stepRows && m.canStepRow() {
			r.allowed = 1
		}
	}
	return r.allowed == 1
}

// stepRows is a variable only for tests, which run the graph's path as the reference.
var stepRows = true

// canStepRow reports whether every block can step one sequence as a row (nn.Block.CanStepRow).
func (m *GPT) canStepRow() bool {
	if m.Drop.P > 0 && m.Drop.Mode != nil && m.Drop.Mode.Training {
		return false
	}
	for _, blk := range m.H {
		if !blk.CanStepRow() {
			return false
		}
	}
	return true
}

// stepRow is trunk for one new token id of one sequence with its caches: the embeddings as
// trunk computes them, then the blocks on that one row in place (nn.Block.StepRow), without a
// graph of tensors. It returns the trunk's output (1, 1, C).
func (m *GPT) stepRow(id int, caches []*nn.KVCache, s *nn.RowScratch) *autograd.Var {
	pos := caches[0].Positions(1, 1)
	x := m.WTE.Forward([]int{id}, 1, 1) // (1, 1, C), a copy of the table's row
	var wpe *autograd.Var
	switch {
	case m.PE != nil:
		wpe = m.PE.Lookup(pos, 1, 1)
	case m.WPE != nil:
		wpe = m.WPE.Forward(pos, 1, 1)
	}
	if wpe != nil {
		tok := x
		x = autograd.Add(tok, wpe)
		autograd.Discard(tok)
	}
	row := x.Value.Data()
	for i, blk := range m.H {
		blk.StepRow(row, caches[i], s)
	}
	return x
}
