package nn

import (
	"fmt"
	"math"
	"sync"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Positions: a transformer's attention does not see the order of its inputs, so each position's
// vector gets a position signal added. GPT-2 learns one vector per position (an Embedding over
// positions); "Attention Is All You Need" uses a fixed table of sines and cosines of geometrically
// spaced frequencies, which has no parameters and lets attention find relative offsets as linear
// functions of the table.

// Sinusoidal is the paper's positional encoding: a constant table (MaxLen, C) with
// PE[p, 2i] = sin(p·wᵢ) and PE[p, 2i+1] = cos(p·wᵢ), wᵢ = 10000^(−2i/C).
//
// The table is computed when a forward pass first reaches a position, not when the layer is
// made: a row depends only on its position, so a table covering the positions used so far
// (rounded up to a power of two) gives the same numbers as the full one, and a model whose
// config claims a huge MaxLen costs nothing until it is run that far.
type Sinusoidal struct {
	MaxLen, Dim int
}

// NewSinusoidal returns the encoding of positions 0 .. maxLen−1 over dim channels.
func NewSinusoidal(maxLen, dim int) *Sinusoidal {
	if maxLen <= 0 || dim <= 0 {
		panic(fmt.Sprintf("nn.NewSinusoidal: want positive sizes, got %d × %d", maxLen, dim))
	}
	return &Sinusoidal{MaxLen: maxLen, Dim: dim}
}

// Forward returns the encodings of positions pos0 .. pos0+t−1 as a constant (1, T, C), to add
// (broadcast over the batch) to token embeddings (B, T, C).
func (s *Sinusoidal) Forward(pos0, t int) *autograd.Var {
	if pos0 < 0 || t <= 0 || pos0+t > s.MaxLen {
		panic(fmt.Sprintf("nn.Sinusoidal: positions %d..%d outside the table of %d", pos0, pos0+t-1, s.MaxLen))
	}
	return autograd.Const(s.table(pos0+t).Narrow(0, pos0, t).Unsqueeze(0))
}

// Lookup returns the encodings of positions pos as a constant: (1, T, C) for T positions shared
// by every row, (B, T, C) for B·T positions, one per row and step.
func (s *Sinusoidal) Lookup(pos []int, b, t int) *autograd.Var {
	end := 0
	for _, p := range pos {
		if p < 0 || p >= s.MaxLen {
			panic(fmt.Sprintf("nn.Sinusoidal: position %d outside the table of %d", p, s.MaxLen))
		}
		end = max(end, p+1)
	}
	rows := 1
	if len(pos) != t {
		rows = b
	}
	return autograd.Const(tensor.Gather(s.table(end), pos).Reshape(rows, t, s.Dim))
}

// table returns a table covering positions [0, n): the smallest power of two from 64 up that
// holds them, capped at MaxLen (every position's row is the same in any of them).
func (s *Sinusoidal) table(n int) *tensor.Tensor {
	rows := 64
	for rows < n {
		rows *= 2
	}
	return SinusoidalTable(min(rows, s.MaxLen), s.Dim)
}

var sinusoidalTables sync.Map // [2]int{maxLen, dim} → *tensor.Tensor

// SinusoidalTable returns the (maxLen, dim) table of the paper's positional encoding, computed
// with PyTorch's float32 steps (the usual div_term recipe), so that it matches a table built by
// torch to the last bit or two. Tables are computed once per size and shared: do not modify one.
func SinusoidalTable(maxLen, dim int) *tensor.Tensor {
	if maxLen <= 0 || dim <= 0 {
		panic(fmt.Sprintf("nn.SinusoidalTable: want positive sizes, got %d × %d", maxLen, dim))
	}
	key := [2]int{maxLen, dim}
	if t, ok := sinusoidalTables.Load(key); ok {
		return t.(*tensor.Tensor)
	}
	// div_term = exp(arange(0, dim, 2) · (−ln 10000 / dim)), all in float32
	step := float32(-math.Log(10000) / float64(dim))
	pe := make([]float32, maxLen*dim)
	for i := 0; i < dim; i += 2 {
		w := float32(math.Exp(float64(float32(i) * step)))
		for p := range maxLen {
			arg := float64(float32(p) * w)
			pe[p*dim+i] = float32(math.Sin(arg))
			if i+1 < dim {
				pe[p*dim+i+1] = float32(math.Cos(arg))
			}
		}
	}
	t, _ := sinusoidalTables.LoadOrStore(key, tensor.FromSlice(pe, maxLen, dim))
	return t.(*tensor.Tensor)
}
