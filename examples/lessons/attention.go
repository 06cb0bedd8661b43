package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// attentionWords is step 6's input, one token per word.
var attentionWords = []string{"the", "cat", "sat", "on", "the", "mat"}

// attentionWidth is the length of step 6's vectors: small enough to print.
const attentionWidth = 4

// headSteps are the stages of one causal attention head on x (1, T, C), as the lesson computes
// them: the scores (1, T, T), the weights after the mask and softmax (1, T, T), and the output
// (1, T, HS).
type headSteps struct {
	q, k, v         *tensor.Tensor // (1, T, HS) each
	scores, weights *tensor.Tensor
	out             *tensor.Tensor
}

// oneHead runs a one-head causal nn.Attention step by step, with autograd's plain
// ops: the same arithmetic as nn/attention.go's Forward, without its fused kernel.
func oneHead(a *nn.Attention, x *autograd.Var) headSteps {
	c := x.Shape()[2]
	qkv := a.QKV.Forward(x)                  // (1, T, 3C): q, k and v side by side
	parts := autograd.Split(qkv, 2, c, c, c) // (1, T, C) each
	q, k, v := parts[0], parts[1], parts[2]
	scores := autograd.Scale(autograd.MatMulT(q, k), float32(1/math.Sqrt(float64(c)))) // (1, T, T): q·k / √HS
	weights := autograd.Softmax(autograd.CausalMask(scores))                           // later tokens get −∞, then 0
	out := autograd.MatMul(weights, v)                                                 // (1, T, HS)
	return headSteps{q.Value.Contiguous(), k.Value.Contiguous(), v.Value.Contiguous(), scores.Value.Contiguous(), weights.Value.Contiguous(), out.Value.Contiguous()}
}

// newHead builds a one-head causal self-attention of width c whose weights are drawn from rng,
// larger than a GPT's initial ones so that the head has preferences to show.
func newHead(rng *rand.Rand, c int) *nn.Attention {
	b := nn.NewBuilder(nn.Random(rng), nil)
	a := &nn.Attention{
		QKV:   nn.NewLinear(b.Sub("c_attn"), c, 3*c, false, 0.8),
		Out:   nn.NewLinear(b.Sub("c_proj"), c, c, false, 0.8),
		NHead: 1, Causal: true,
	}
	if err := b.Err(); err != nil {
		panic(err)
	}
	return a
}

// wordVectors gives every distinct word a random vector of width c (the same word, the same
// vector) and returns the sequence's vectors (1, T, c).
func wordVectors(rng *rand.Rand, words []string, c int) (*autograd.Var, map[string][]float32) {
	vecs := map[string][]float32{}
	data := make([]float32, 0, len(words)*c)
	for _, w := range words {
		v, ok := vecs[w]
		if !ok {
			v = make([]float32, c)
			for i := range v {
				v[i] = float32(math.Round(rng.NormFloat64()*10) / 10) // one decimal: easy to read
			}
			vecs[w] = v
		}
		data = append(data, v...)
	}
	return autograd.Const(tensor.FromSlice(data, 1, len(words), c)), vecs
}

// attentionLesson: self-attention weighs every earlier token.
func attentionLesson(ctx context.Context, e *env) error {
	e.para(`In a sentence, the meaning of a word depends on the words around it. Self-attention lets
		every token look back at the tokens before it (and itself) and take in a mix of them. Each
		token's vector is multiplied by three learnt weight matrices, giving three new vectors: a
		query (what am I looking for?), a key (what do I offer?) and a value (what do I pass on?).`)
	e.para(`The score of token i for an earlier token j is the dot product of i's query with j's key
		(multiply them number by number and add up), divided by √(vector length) to keep the numbers
		moderate. A token may not look at later tokens: when the model reads a text it must guess
		what comes next, not peek. Softmax turns each row of scores into weights that add up to 1, and
		the output of token i is the weighted sum of the values.`)
	e.printf("Code: nn/attention.go (Attention, Attend), autograd/ops_nn.go (CausalMask, Softmax), autograd/ops_matmul.go (the dot products).\n\n")

	rng := rand.New(rand.NewPCG(e.seed, 6))
	c := attentionWidth
	x, vecs := wordVectors(rng, attentionWords, c)
	head := newHead(rng, c)
	st := oneHead(head, x)
	t := len(attentionWords)

	seen := map[string]int{}
	var repeated []string
	for _, w := range attentionWords {
		if seen[w]++; seen[w] == 2 {
			repeated = append(repeated, fmt.Sprintf("%q", w))
		}
	}
	e.printf("The input: %d words, each a vector of %d numbers (made up; a trained model learns them)", t, c)
	if len(repeated) > 0 {
		e.printf(";\n%s comes more than once, with the same vector each time, so %d vectors are listed", strings.Join(repeated, " and "), len(seen))
	}
	e.printf(":\n")
	for w := range seen {
		seen[w] = 0
	}
	for _, w := range attentionWords {
		if seen[w]++; seen[w] == 1 {
			e.printf("  %-4s %s\n", w, vector(vecs[w]))
		}
	}
	e.printf("\nOne head's query, key and value of each word (the vector times the head's weights):\n")
	for i, w := range attentionWords {
		e.printf("  %d %-4s q %s  k %s  v %s\n", i, w, vector(row(st.q, i)), vector(row(st.k, i)), vector(row(st.v, i)))
	}
	e.printf("\nScores q·k/√%d (row: the word looking; column: the word looked at; · the future, hidden):\n", c)
	printMatrix(e, st.scores, func(i, j int) bool { return j > i })
	e.printf("\nWeights: softmax of each row (each row adds up to 1; · the future, which gets weight 0):\n")
	printMatrix(e, st.weights, func(i, j int) bool { return j > i })

	last := t - 1
	var terms []string
	for j := range t {
		terms = append(terms, fmt.Sprintf("%.2f×v(%s)", st.weights.At(0, last, j), attentionWords[j]))
	}
	e.printf("\nThe output of %q is the weighted sum of the values:\n  %s\n  = %s\n\n",
		attentionWords[last], strings.Join(terms, " + "), vector(row(st.out, last)))

	// The library's fused kernel computes the same weights.
	qkv := head.QKV.Forward(x).Value // (1, T, 3C)
	_, p := tensor.Attention(qkv.Narrow(2, 0, c), qkv.Narrow(2, c, c), qkv.Narrow(2, 2*c, c), tensor.Attn{Heads: 1, Causal: true})
	lib := p.Contiguous().Data()
	diff := 0.0
	for i, w := range st.weights.Data() {
		diff = math.Max(diff, math.Abs(float64(w-lib[i])))
	}
	e.printf("tensor.Attention, the kernel under nn.Attention, computes the same weights in one fused step (tensor/attention.go): largest difference %.1g.\n\n", diff)
	e.para(`A real model has many such heads in every layer (step 8), and its weights are learnt, so that
		a head's queries and keys come to match where looking pays off: a verb finding its subject, a
		closing quote finding the opening one.`)

	if path := e.picture("attention.png"); path != "" {
		if err := plots.HeatMap(path, plots.Grid{
			Title: "One attention head: how much each word looks at each earlier word",
			X:     "looks at", Y: "word", Rows: attentionWords, Cols: attentionWords,
			Values: matrixOf(st.weights), ShowValues: true, Max: 1,
			Masked: func(i, j int) bool { return j > i }, // the future: no weight at all
		}); err != nil {
			return err
		}
		e.drew(path, "the weights as a heat map; · marks the future, which a word may not look at")
	}
	return nil
}

// row returns row i of a (1, T, C) tensor.
func row(t *tensor.Tensor, i int) []float32 {
	c := t.Dim(2)
	return t.Data()[i*c : (i+1)*c]
}

// vector writes numbers as [ 0.12 −0.50 ...].
func vector(v []float32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%5s", num(x))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// printMatrix prints a (1, T, T) tensor with the words as row and column names; hide marks the
// cells to print as ·.
func printMatrix(e *env, m *tensor.Tensor, hide func(i, j int) bool) {
	t := m.Dim(1)
	e.printf("  %-5s", "")
	for _, w := range attentionWords[:t] {
		e.printf(" %6s", w)
	}
	e.printf("\n")
	for i := range t {
		e.printf("  %-5s", attentionWords[i])
		for j := range t {
			if hide != nil && hide(i, j) {
				e.printf(" %6s", "·")
			} else {
				e.printf(" %6s", num(m.At(0, i, j)))
			}
		}
		e.printf("\n")
	}
}

// matrixOf returns a (1, R, C) tensor as rows of float64, for a picture.
func matrixOf(m *tensor.Tensor) [][]float64 {
	r, c := m.Dim(1), m.Dim(2)
	out := make([][]float64, r)
	for i := range out {
		out[i] = make([]float64, c)
		for j := range out[i] {
			out[i][j] = float64(m.At(0, i, j))
		}
	}
	return out
}
