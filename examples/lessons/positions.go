package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// fullAttention is one head of attention without the causal mask: every token looks at every
// token, as in a Transformer's encoder. x is (1, T, C); it returns (1, T, C).
func fullAttention(a *nn.Attention, x *autograd.Var) *autograd.Var {
	c := x.Shape()[2]
	parts := autograd.Split(a.QKV.Forward(x), 2, c, c, c)
	q, k, v := parts[0], parts[1], parts[2]
	scores := autograd.Scale(autograd.MatMulT(q, k), float32(1/math.Sqrt(float64(c)))) // (1, T, T)
	return autograd.MatMul(autograd.Softmax(scores), v)
}

// sentence returns the vectors (1, T, C) of words, each word's vector from vecs, plus pos (T, C)
// when not nil.
func sentence(words []string, vecs map[string][]float32, pos *tensor.Tensor) *autograd.Var {
	c := len(vecs[words[0]])
	data := make([]float32, 0, len(words)*c)
	for i, w := range words {
		for j, x := range vecs[w] {
			if pos != nil {
				x += pos.At(i, j)
			}
			data = append(data, x)
		}
	}
	return autograd.Const(tensor.FromSlice(data, 1, len(words), c))
}

// orderTest runs the two sentences through the head and returns, for each word, the largest
// difference between its output in the first sentence and in the second.
func orderTest(head *nn.Attention, a, b []string, vecs map[string][]float32, pos *tensor.Tensor) map[string]float64 {
	outA := fullAttention(head, sentence(a, vecs, pos)).Value.Contiguous()
	outB := fullAttention(head, sentence(b, vecs, pos)).Value.Contiguous()
	diff := map[string]float64{}
	for i, w := range a {
		for j, u := range b {
			if u != w {
				continue
			}
			d := 0.0
			for k, x := range row(outA, i) {
				d = math.Max(d, math.Abs(float64(x-row(outB, j)[k])))
			}
			diff[w] = d
		}
	}
	return diff
}

// positionsLesson: without positional information, word order is invisible to attention.
func positionsLesson(ctx context.Context, e *env) error {
	e.para(`Attention compares every token with every other by their vectors alone. Nothing in it says
		where a token is. So "dog bites man" and "man bites dog" give each word exactly the same output,
		only in another order: to attention, the two sentences mean the same. (A GPT's causal mask
		leaks a little order, since a token sees only those before it, but not enough.) Here is one
		head of attention without the mask, on the two sentences.`)
	e.printf("Code: nn/attention.go and autograd/ops_nn.go (the head), model/gpt.go (GPT-2's learnt positions, wpe); nn/positions.go (SinusoidalTable: the paper's table).\n\n")

	rng := rand.New(rand.NewPCG(e.seed, 9))
	c := 8
	a, b := []string{"dog", "bites", "man"}, []string{"man", "bites", "dog"}
	_, vecs := wordVectors(rng, []string{"dog", "bites", "man"}, c)
	head := newHead(rng, c)

	out := fullAttention(head, sentence(a, vecs, nil)).Value.Contiguous()
	outB := fullAttention(head, sentence(b, vecs, nil)).Value.Contiguous()
	e.printf("Without positions, the outputs (first 4 of %d numbers):\n", c)
	for i, w := range a {
		e.printf("  %-22s %-6s %s\n", "\"dog bites man\":", w, vector(row(out, i)[:4]))
	}
	for i, w := range b {
		e.printf("  %-22s %-6s %s\n", "\"man bites dog\":", w, vector(row(outB, i)[:4]))
	}
	report := func(name string, pos *tensor.Tensor) {
		d := orderTest(head, a, b, vecs, pos)
		e.printf("  %-37s dog %.4f   bites %.4f   man %.4f\n", name, d["dog"], d["bites"], d["man"])
	}
	e.printf("\nHow much each word's output changes between the two sentences (largest difference):\n")
	report("no positions:", nil)
	e.printf("\n")

	e.para(`The cure is to add to each token's vector a vector that depends on its position. The
		original Transformer adds a fixed table of waves: channel 2i of position p holds sin(p / 10000^(2i/C))
		and channel 2i+1 holds cos of the same; fast waves in the first channels, slow ones in the last,
		so every position gets its own pattern. GPT-2 instead learns one vector per position, like
		the token vectors (its wpe table). Either way, "dog" at the start is no longer "dog" at the end:`)
	sin := nn.SinusoidalTable(16, c)
	report("sinusoidal positions:", sin)
	learnt := nn.NewEmbedding(nn.NewBuilder(nn.Random(rng), nil).Sub("wpe"), 16, c, 0.5)
	report("learnt positions (before training):", learnt.Weight.Value)
	e.printf("\nThe sinusoidal table's first positions (C = %d):\n", c)
	for p := range 4 {
		e.printf("  position %d %s\n", p, vector(row(sin.Reshape(1, 16, c), p)))
	}
	e.printf("\n")

	if path := e.picture("positions.png"); path != "" {
		// the table the text prints (C = c channels), over more positions than it lists
		n, dim := 32, c
		table := nn.SinusoidalTable(n, dim)
		grid := make([][]float64, dim) // one row per channel, one column per position
		for i := range grid {
			grid[i] = make([]float64, n)
			for p := range grid[i] {
				grid[i][p] = float64(table.At(p, i))
			}
		}
		if err := plots.HeatMap(path, plots.Grid{
			Title: fmt.Sprintf("Sinusoidal positional encoding, C = %d: each position's column is its vector", dim),
			X:     "position", Y: "channel", Values: grid, Diverging: true, Min: -1, Max: 1,
		}); err != nil {
			return err
		}
		e.drew(path, fmt.Sprintf("the sinusoidal table above, for positions 0 to %d: one column per position, one row per channel", n-1))
	}
	return nil
}
