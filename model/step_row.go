package model

import (
	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// Decoding steps run the blocks on the sequences' rows in reused buffers (nn.Block.StepRow)
// rather than as a graph of tensors: the same computation, bit for bit, without the thousands of
// small allocations a step's graph makes (on a SmolLM2-shaped model they cost 1.5 ms a token, as
// much as half the matrix products). Generate, GenerateBatch and a Decoder's steps take this
// path; prefills take the graph's.

// rowStepper holds what a decoder needs for row steps: whether its model's blocks allow them
// (0 not asked yet, 1 yes, −1 no) and the activations' scratch.
type rowStepper struct {
	allowed int
	scratch nn.RowScratch
}

// ready reports whether the decoding steps of m may run as rows; m is the decoder's frozen view,
// asked once.
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

// canStepRow reports whether every block can step as rows (nn.Block.CanStepRow).
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

// stepRow is trunk for one new token of each sequence of the caches (ids: one per row): the
// embeddings as trunk computes them, then the blocks on those rows in place
// (nn.Block.StepRow), without a graph of tensors. It returns the trunk's output (B, 1, C).
func (m *GPT) stepRow(ids []int, caches []*nn.KVCache, s *nn.RowScratch) *autograd.Var {
	x := m.embed(ids, len(ids), 1, caches) // (B, 1, C), a tensor of its own (the tables' rows copied)
	rows := x.Value.Data()
	for i, blk := range m.H {
		blk.StepRow(rows, caches[i], s)
	}
	return x
}
