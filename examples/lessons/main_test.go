package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/goformer/goformer/checkpoint"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/dates"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
	"github.com/goformer/goformer/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runTiny runs the steps the arguments name, with the tests' small models, drawing pictures into
// a temporary directory, and returns the output and the environment.
func runTiny(t *testing.T, args ...string) (string, *env) {
	t.Helper()
	e, todo, err := parse(append(args, "-out", t.TempDir()), io.Discard)
	require.NoError(t, err)
	e.tiny = true
	var out bytes.Buffer
	e.w = &blankWriter{w: &out}
	require.NoError(t, runLessons(context.Background(), e, todo), "output so far:\n%s", out.String())
	return out.String(), e
}

// TestAllSteps runs steps 1 to 12 once and checks what each prints and draws; the tests below
// check each step's claim more closely.
func TestAllSteps(t *testing.T) {
	skipUnderRace(t)
	out, e := runTiny(t, "all")
	for i, l := range lessons {
		assert.Contains(t, out, "Step "+strconv.Itoa(i+1)+" ("+l.name+"): ", "step %d's heading", i+1)
		assert.Contains(t, out, "(step "+strconv.Itoa(i+1)+" took ")
	}
	assert.Len(t, lessons, 12)

	// 1: the hand-worked sums and the training
	assert.Contains(t, out, "h2 = 0.60×0.13 − 0.40×0.42 + 0.20×0.22 − 0.10×0.56 + 0.00 = −0.10: below 0, so h2 = 0")
	assert.Contains(t, out, "answer: leaf (right)")
	assert.Contains(t, out, "answer: leaf (wrong)", "the made-up weights call the yellow flower a leaf")
	assert.Contains(t, out, "answer: flower (right)")
	// 2: the vocabulary and the round trip
	assert.Contains(t, out, "a=9")
	assert.Contains(t, out, `and back: "Humpty Dumpty sat on a wall,"`)
	// 3: the rhyme, recited
	assert.Contains(t, out, "completion: Humpty Dumpty sat on a wall,\nHumpty Dumpty had a great fall.\n")
	// 4: neighbours
	assert.Contains(t, out, "The nearest neighbours of a few characters:")
	// 5: merges and pieces
	assert.Contains(t, out, `1. "a"    + "t"    → "at"`)
	assert.Contains(t, out, `"cats"   → "cat" + "s"`)
	// 6, 8, 10
	assert.Contains(t, out, "The output of \"mat\" is the weighted sum of the values:")
	assert.Contains(t, out, "layer 1 head 1")
	assert.Contains(t, out, "----------\n")
	// 9: the same outputs without positions
	assert.Contains(t, out, "no positions:                         dog 0.0000   bites 0.0000   man 0.0000")
	// 11: the translations and where the decoder looked
	assert.Contains(t, out, "dates it never saw, it writes")
	assert.Contains(t, out, "  writing 1     looked most at ")
	assert.Contains(t, out, "While writing the year's four digits, the heads gave")
	// 12: the four changes (llama_test.go checks the numbers)
	assert.Contains(t, out, "rotary positions:                                   ")

	// every picture decodes, at a legible size
	want := []string{"numbers-network.png", "numbers-loss.png", "guess-loss.png", "embeddings.png", "subwords.png", "attention.png",
		"residual.png", "heads-layer1.png", "positions.png", "gpt-loss.png", "gpt-structure.png", "transformer-structure.png", "transformer.png",
		"llama-rotary.png", "llama-rotary-scores.png", "llama-swiglu.png", "llama-kv-groups.png"}
	var got []string
	for _, p := range e.pictures {
		got = append(got, filepath.Base(p))
		f, err := os.Open(p)
		require.NoError(t, err)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err, p)
		assert.GreaterOrEqual(t, img.Bounds().Dx(), 800, p)
		assert.GreaterOrEqual(t, img.Bounds().Dy(), 450, p)
		assert.Contains(t, out, "picture: "+p)
	}
	assert.Subset(t, got, want)

	// 8: the heads of the trained model differ from one another
	cm := e.trained["shakespeare"].(*charModel)
	in, err := cm.m.Inspect(cm.val[:cm.m.Config.BlockSize])
	require.NoError(t, err)
	heads := in.Attention[0]
	require.Greater(t, len(heads), 1)
	for a := range heads {
		for b := a + 1; b < len(heads); b++ {
			diff := 0.0
			for i := range heads[a] {
				for j := range heads[a][i] {
					diff = math.Max(diff, math.Abs(float64(heads[a][i][j]-heads[b][i][j])))
				}
			}
			assert.Greater(t, diff, 0.05, "heads %d and %d look at the same things", a+1, b+1)
		}
	}
}

// Step 1's claim: gradient descent lowers the loss and gets every specimen right.
func TestNumbersLossFalls(t *testing.T) {
	n := newLeafNet()
	data := specimens(rand.New(rand.NewPCG(1, 2)), 30)
	before := n.accuracy(data)
	losses, err := n.train(context.Background(), data, 150, nil)
	require.NoError(t, err)
	require.Len(t, losses, 151)
	assert.Less(t, losses[150], losses[0]/4)
	for i := 10; i < len(losses); i += 10 {
		assert.Less(t, losses[i], losses[i-10], "the loss falls: step %d", i)
	}
	assert.Less(t, before, 1.0, "the made-up weights make mistakes")
	assert.Equal(t, 1.0, n.accuracy(data))

	// the hand-worked leaf: h1 = 0.1·0.13 + 0.5·0.42 − 0.2·0.22 + 0.3·0.56, h2 < 0, h3 = ...
	fresh := newLeafNet()
	in := specimen{32, 107, 56, 11.2, false}.scaled()
	h1 := 0.1*float64(in[0]) + 0.5*float64(in[1]) - 0.2*float64(in[2]) + 0.3*float64(in[3])
	h3 := -0.3*float64(in[0]) + 0.2*float64(in[1]) + 0.4*float64(in[2]) + 0.1*float64(in[3])
	_, scores := fresh.forward(autograd.Const(tensor.FromSlice(in, 1, 4)))
	assert.InDelta(t, 0.8*h1+0.1*h3, scores.Value.At(0, 0), 1e-6)
	assert.InDelta(t, -0.2*h1+0.3*h3, scores.Value.At(0, 1), 1e-6)
}

// Step 3's claims: trained on windows that start anywhere in the user's own short text, the
// model continues it from its opening words or from any start taken from inside it; the counting
// table before it has the penalty that counting the text's pairs gives, and the GPT beats it.
func TestGuessLearnsYourText(t *testing.T) {
	skipUnderRace(t)
	path := filepath.Join(t.TempDir(), "twinkle.txt")
	text := "Twinkle, twinkle, little star,\nHow I wonder what you are!\nUp above the world so high,\nLike a diamond in the sky.\n"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	out, _ := runTiny(t, "guess", "-text", path)
	assert.Contains(t, out, "completion: Twinkle, twinkle, little star,\nHow I wonder what you are!\n")
	// the counting table's penalty, from the text's character pairs counted here
	pairs, firsts := map[[2]rune]int{}, map[rune]int{}
	rs := []rune(text)
	for i := 0; i+1 < len(rs); i++ {
		pairs[[2]rune{rs[i], rs[i+1]}]++
		firsts[rs[i]]++
	}
	sum := 0.0
	for i := 0; i+1 < len(rs); i++ {
		sum -= math.Log(float64(pairs[[2]rune{rs[i], rs[i+1]}]) / float64(firsts[rs[i]]))
	}
	bigram := sum / float64(len(rs)-1)
	assert.Contains(t, out, fmt.Sprintf("Its average penalty over the whole text: %.3f.", bigram))
	m := regexp.MustCompile(`before training, ([0-9.]+) after \(the counting table: ([0-9.]+)\)`).FindStringSubmatch(out)
	require.Len(t, m, 3, "the penalties after training")
	after, _ := strconv.ParseFloat(m[1], 64)
	table, _ := strconv.ParseFloat(m[2], 64)
	assert.InDelta(t, bigram, table, 1e-3)
	assert.Less(t, after, table/2, "the GPT beats the counting table")
	distinct := map[rune]bool{}
	for _, r := range text {
		distinct[r] = true
	}
	assert.Contains(t, out, "guessing blindly among "+strconv.Itoa(len(distinct))+" characters")
	assert.NotContains(t, out, "This start is not how the text begins")

	// starts from the middle of the text continue it
	out, _ = runTiny(t, "guess", "-text", path, "-prompt", "Up above")
	assert.Contains(t, out, "completion: Up above the world so high,\nLike a diamond in the sky.")
	out, _ = runTiny(t, "guess", "-prompt", "All the")
	assert.Contains(t, out, "completion: All the king's horses and all the king's men\nCouldn't put Humpty together again.")
	out, _ = runTiny(t, "guess", "-prompt", "put Humpty")
	assert.Contains(t, out, "completion: put Humpty together again.")

	e, todo, err := parse([]string{"guess", "-text", path, "-prompt", "Zebra", "-out", ""}, io.Discard)
	require.NoError(t, err)
	e.tiny, e.w = true, io.Discard
	assert.ErrorContains(t, runLessons(context.Background(), e, todo), "only use the text's characters")
}

func TestOpeningWords(t *testing.T) {
	assert.Equal(t, "Humpty Dumpty", openingWords(rhyme, 2))
	assert.Equal(t, "Twinkle, twinkle,", openingWords("Twinkle, twinkle, little star", 2))
	assert.Equal(t, "one", openingWords("one\n", 2))
}

// Step 4's tools: cosine similarity and the principal components.
func TestNeighboursAndPCA(t *testing.T) {
	assert.InDelta(t, 1, cosine([]float64{1, 2}, []float64{2, 4}), 1e-12)
	assert.InDelta(t, 0, cosine([]float64{1, 0}, []float64{0, 3}), 1e-12)
	assert.InDelta(t, -1, cosine([]float64{1, 1}, []float64{-1, -1}), 1e-12)
	ns := nearest([][]float64{{1, 0}, {0.9, 0.1}, {0, 1}, {-1, 0}}, 0, 2)
	assert.Equal(t, []int{1, 2}, []int{ns[0].id, ns[1].id})

	// points spread mostly along (1, 1, 0), a little along (0, 0, 1): the first component is
	// the distance along (1, 1, 0)/√2, the second along z, up to sign
	var vecs [][]float64
	var wantA, wantZ []float64
	for a := -2.0; a <= 2; a++ {
		for _, z := range []float64{-0.1, 0.1} { // z does not vary with a
			vecs = append(vecs, []float64{a + 5, a - 2, z})
			wantA, wantZ = append(wantA, a*math.Sqrt2), append(wantZ, z)
		}
	}
	pts := pca2(vecs)
	for i, p := range pts {
		assert.InDelta(t, math.Abs(wantA[i]), math.Abs(p[0]), 1e-9)
		assert.InDelta(t, math.Abs(wantZ[i]), math.Abs(p[1]), 1e-9)
	}
}

// Step 5's claim: merges shorten the text, and a word splits into learnt pieces.
func TestSubwordsShortenTheText(t *testing.T) {
	ctx := context.Background()
	text := shakespeare[:100_000]
	prev := len(text) + 1
	for _, v := range []int{256, 320, 512} {
		b, err := learnBPE(ctx, text, v, tokenizer.GPT2Pattern)
		require.NoError(t, err)
		n := len(b.Encode(text))
		assert.Less(t, n, prev, "vocabulary %d", v)
		prev = n
	}
	small, err := learnBPE(ctx, catText, 256+12, wordsPattern)
	require.NoError(t, err)
	ps, err := piecesOf(small, "cats")
	require.NoError(t, err)
	assert.Equal(t, []string{"cat", "s"}, ps)
	ms, err := mergesOf(small, 3)
	require.NoError(t, err)
	assert.Equal(t, merge{"a", "t", "at"}, ms[0])
}

// Step 6's claim: each row of weights is a softmax over the earlier tokens, the output is their
// weighted sum of values, and the library's fused attention gives the same weights.
func TestAttentionByHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, _ := wordVectors(rng, attentionWords, attentionWidth)
	head := newHead(rng, attentionWidth)
	st := oneHead(head, x)
	n := len(attentionWords)
	var lib *tensor.Tensor
	head.Forward(x, nn.AttnInput{Weights: func(p *tensor.Tensor) { lib = p.Contiguous() }})
	for i := range n {
		// softmax of the visible scores, in float64
		top := math.Inf(-1)
		for j := 0; j <= i; j++ {
			top = math.Max(top, float64(st.scores.At(0, i, j)))
		}
		sum := 0.0
		for j := 0; j <= i; j++ {
			sum += math.Exp(float64(st.scores.At(0, i, j)) - top)
		}
		for j := range n {
			want := 0.0
			if j <= i {
				want = math.Exp(float64(st.scores.At(0, i, j))-top) / sum
			}
			assert.InDelta(t, want, st.weights.At(0, i, j), 1e-6, "weight (%d, %d)", i, j)
			assert.InDelta(t, want, lib.At(0, 0, i, j), 1e-6, "nn's weight (%d, %d)", i, j)
		}
		for c := range attentionWidth {
			want := 0.0
			for j := 0; j <= i; j++ {
				want += float64(st.weights.At(0, i, j)) * float64(st.v.At(0, j, c))
			}
			assert.InDelta(t, want, st.out.At(0, i, c), 1e-5)
		}
	}
	// the score is q·k/√HS
	q, k := row(st.q, 3), row(st.k, 1)
	dot := 0.0
	for c := range q {
		dot += float64(q[c]) * float64(k[c])
	}
	assert.InDelta(t, dot/2, st.scores.At(0, 3, 1), 1e-5)
}

// Step 7's claim: with residual connections the same deep stack reaches a lower loss in the same
// steps.
func TestResidualTrainsDeepStacks(t *testing.T) {
	skipUnderRace(t)
	e := &env{w: io.Discard, seed: 1337}
	r, err := compareResidual(context.Background(), e, deepSize{layers: 8, width: 16, block: 16, batch: 8, steps: 60, lr: 1e-2})
	require.NoError(t, err)
	assert.Less(t, tailMean(r.residual, 20), tailMean(r.plain, 20)-0.05)
	assert.InDelta(t, 3.3, unigramLoss(shakespeare), 0.05)
}

// Step 9's claim: without positions, swapping words swaps the outputs and nothing else; with
// either encoding, a word's output depends on where it is.
func TestPositionsBreakTheSymmetry(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	words := []string{"dog", "bites", "man"}
	_, vecs := wordVectors(rng, words, 8)
	head := newHead(rng, 8)
	swapped := []string{"man", "bites", "dog"}
	for w, d := range orderTest(head, words, swapped, vecs, nil) {
		assert.Less(t, d, 1e-6, "%s without positions", w)
	}
	for w, d := range orderTest(head, words, swapped, vecs, nn.SinusoidalTable(3, 8)) {
		if w != "bites" || d > 0 { // "bites" stays in the middle, but its neighbours moved
			assert.Greater(t, d, 1e-3, "%s with sinusoidal positions", w)
		}
	}
	learnt := tensor.RandNormal(rng, 0, 0.5, 3, 8)
	for w, d := range orderTest(head, words, swapped, vecs, learnt) {
		assert.Greater(t, d, 1e-3, "%s with learnt positions", w)
	}

	// the paper's table: PE[p, 2i] = sin(p/10000^(2i/C)), PE[p, 2i+1] = cos(...)
	pe := nn.SinusoidalTable(4, 6)
	assert.InDelta(t, math.Sin(1), pe.At(1, 0), 1e-6)
	assert.InDelta(t, math.Cos(1), pe.At(1, 1), 1e-6)
	assert.InDelta(t, math.Sin(3/math.Pow(10000, 2.0/6)), pe.At(3, 2), 1e-6)
	assert.InDelta(t, math.Cos(2/math.Pow(10000, 4.0/6)), pe.At(2, 5), 1e-6)
	for i := 1; i < 6; i += 2 {
		assert.Equal(t, float32(1), pe.At(0, i))
	}
}

// Step 11's claims: the small encoder–decoder translates held-out dates far better than chance,
// its cross-attention rows are distributions over the source, and while writing the year's
// digits it looks at the year's source words more than at the others.
func TestTransformerLearnsDates(t *testing.T) {
	skipUnderRace(t)
	out, e := runTiny(t, "transformer")
	m := e.trained["transformer"].(*model.Transformer)
	v := dates.NewVocab()
	ctx := context.Background()
	ev, err := dates.Evaluate(ctx, m, v, dates.Eval{N: 100, Seed: 99})
	require.NoError(t, err)
	assert.Greater(t, ev.Accuracy(), 0.3, "held-out exact match (chance: 1 in %d)", dates.NumDates)
	assert.Regexp(t, `On 100 dates it never saw, it writes \d+ exactly right`, out)

	for _, text := range []string{transformerExample, "july 4, 1976", "25 december 2024", "01/01/2000"} {
		a, err := dates.Align(ctx, m, v, text)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(a.Rows), 5, "%q: the year and more", text)
		last := len(a.Cross) - 1
		w := a.Cross[last]
		ts := len(a.Src)
		for h := range w.Dim(0) {
			for r := range w.Dim(1) {
				sum := 0.0
				for s := range ts {
					x := float64(w.At(h, r, s))
					require.GreaterOrEqual(t, x, 0.0)
					sum += x
				}
				assert.InDelta(t, 1, sum, 1e-5, "%q: head %d, row %d sums to 1", text, h, r)
			}
		}
		share := yearShare(a, last)
		assert.Greater(t, share, 4/float64(ts)+0.1, "%q: the year's digits look at the year (%.2f; evenly: %.2f)", text, share, 4/float64(ts))
		t.Logf("%q → %q: year share %.2f (evenly %.2f)", text, v.Decode(a.Hyp.Tokens), share, 4/float64(ts))
	}
}

// Step 10 samples from a checkpoint that examples/shakespeare saved, as it saves them.
func TestGPTFromCheckpoint(t *testing.T) {
	tok := tokenizer.NewChar(shakespeare)
	m, err := model.New(model.Config{VocabSize: tok.VocabSize(), BlockSize: 16, NLayer: 1, NHead: 2, NEmbd: 16}, 1)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, checkpoint.Save(dir, m, checkpoint.State{Step: 7, Meta: map[string]string{"vocab": tok.Vocab(), "tokenizer": "char"}}))
	out, _ := runTiny(t, "gpt", "-ckpt", dir)
	assert.Contains(t, out, "Loaded the GPT that examples/shakespeare trained, from "+dir+": 1 layers, 2 heads, 16 wide, context 16")
	assert.Contains(t, out, "Its loss on the first 320 characters of the validation text: 4.1")
	assert.Contains(t, out, "----------\n")

	bpe := t.TempDir()
	require.NoError(t, checkpoint.Save(bpe, m, checkpoint.State{Meta: map[string]string{"vocab": "x", "tokenizer": "bpe"}}))
	_, _, err = loadCheckpoint(bpe)
	assert.ErrorContains(t, err, "trained on bpe tokens")
	_, _, err = loadCheckpoint(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

func TestCommandLine(t *testing.T) {
	_, todo, err := parse([]string{"-out", "", "3", "letters"}, io.Discard)
	require.NoError(t, err)
	require.Len(t, todo, 2)
	assert.Equal(t, "guess", todo[0].name)
	assert.Equal(t, "letters", todo[1].name)

	e, todo, err := parse([]string{"guess", "-prompt", "Humpty"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "Humpty", e.prompt)
	assert.Equal(t, "out-lessons", e.out)
	assert.Len(t, todo, 1)

	var help bytes.Buffer
	_, _, err = parse(nil, &help)
	assert.Error(t, err)
	assert.Contains(t, help.String(), "10 gpt")
	assert.Contains(t, help.String(), "11 transformer")
	_, todo, err = parse([]string{"11", "-out", ""}, io.Discard)
	require.NoError(t, err)
	require.Len(t, todo, 1)
	assert.Equal(t, "transformer", todo[0].name)
	_, _, err = parse([]string{"nonsense"}, io.Discard)
	assert.ErrorContains(t, err, `no step "nonsense"`)
	_, _, err = parse([]string{"all", "-bogus"}, io.Discard)
	assert.Error(t, err)
}
