package model

import (
	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// stackSiblings gives a view with compact weights one stacked matrix (gemm.StackRows) for each
// layer's query, key and value projections and one for SwiGLU's gate and up, where they are
// separate (the Llama family's layout): they read the same input, and at one row of activations
// a decoding step streams one matrix in one pass faster than three or two in turn. The named
// matrices become row ranges of the stacked ones, so the weights are held once. A view with
// adapters keeps its projections apart (each has its own adapter).
func (m *GPT) stackSiblings() {
	if !stackCompactSiblings || m.compactWeights.format == Float32 || m.lora != nil {
		return
	}
	for _, blk := range m.H {
		if a := blk.Attn; a != nil && a.QKV == nil {
			if l := m.stack(a.Q, a.K, a.V); l != nil {
				a.QKV, a.Q, a.K, a.V = l, nil, nil, nil
			}
		}
		if f, ok := blk.FF.(*nn.SwiGLU); ok && f.GateUp == nil {
			if l := m.stack(f.Gate, f.Up); l != nil {
				f.GateUp, f.Gate, f.Up = l, nil, nil
			}
		}
	}
}

// stackCompactSiblings is a variable only for tests, which build the unstacked view as the
// reference.
var stackCompactSiblings = true

// stack returns one Linear whose outputs are those of ls side by side, or nil where they cannot
// be stacked: a matrix that is not compact, an adapter, a bias on some but not all.
func (m *GPT) stack(ls ...*nn.Linear) *nn.Linear {
	parts := make([]*compactMatrix, len(ls))
	for i, l := range ls {
		if l == nil || l.LoRA != nil || (l.Bias != nil) != (ls[0].Bias != nil) {
			return nil
		}
		c, ok := l.Compact.(*compactMatrix)
		if !ok {
			return nil
		}
		parts[i] = c
	}
	whole := stackedBase(parts)
	if whole == nil {
		ws := make([]*gemm.Compact, len(parts))
		for i, c := range parts {
			if c.n > 0 {
				return nil // a row range of some other matrix
			}
			ws[i] = c.w
		}
		whole = &compactMatrix{w: gemm.StackRows(ws...), format: parts[0].format}
		// the named matrices become row ranges of the stacked one: the weights are held once
		lo := 0
		for _, c := range parts {
			rows, _ := c.Dims()
			for name, held := range m.compact {
				if held == c {
					m.compact[name] = &compactMatrix{w: whole.w, lo: lo, n: rows, format: c.format}
				}
			}
			lo += rows
		}
	}
	l := &nn.Linear{Compact: whole}
	if ls[0].Bias != nil {
		bs := make([]*tensor.Tensor, len(ls))
		for i, p := range ls {
			bs[i] = p.Bias.Value
		}
		l.Bias = autograd.Const(tensor.Concat(0, bs...))
	}
	return l
}

// stackedBase returns the matrix parts are consecutive row ranges of, covering it in order (a
// view of a view whose siblings were stacked), or nil.
func stackedBase(parts []*compactMatrix) *compactMatrix {
	lo := 0
	for _, c := range parts {
		if c.n == 0 || c.w != parts[0].w || c.lo != lo {
			return nil
		}
		lo += c.n
	}
	if rows, _ := parts[0].w.Dims(); rows != lo {
		return nil
	}
	return &compactMatrix{w: parts[0].w, format: parts[0].format}
}
