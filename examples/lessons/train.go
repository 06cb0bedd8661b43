package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tokenizer"
)

// plan says how a step trains a GPT: the loop of examples/shakespeare/train.go, cut down to what
// the lessons need.
type plan struct {
	steps  int     // optimizer steps
	batch  int     // windows per step
	lr     float32 // peak learning rate (after a short warmup, decays to a tenth)
	report int     // print the loss every report steps; 0: never
}

// trainer runs plan p on m: an AdamW optimizer with a warmup and cosine schedule over p.steps,
// taking the step every example shares (trainloop.Stepper, which stops before the optimizer at a
// non-finite loss or gradient), and a generator for the windows, kept between calls to run.
type trainer struct {
	e    *env
	m    *model.GPT
	ids  []int
	p    plan
	rng  *rand.Rand
	st   trainloop.Stepper
	step int // steps done
}

func newTrainer(e *env, m *model.GPT, ids []int, p plan) (*trainer, error) {
	if len(ids) < m.Config.BlockSize+1 {
		return nil, fmt.Errorf("%d tokens are too few for windows of %d", len(ids), m.Config.BlockSize+1)
	}
	return &trainer{
		e: e, m: m, ids: ids, p: p,
		rng: rand.New(rand.NewPCG(e.seed, 1)),
		st: trainloop.Stepper{
			Opt:      optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: p.lr, Betas: [2]float32{0.9, 0.99}, WeightDecay: 0.1}),
			Schedule: optim.CosineSchedule{WarmupIters: min(20, p.steps/10), DecayIters: p.steps, MaxLR: p.lr, MinLR: p.lr / 10},
			Clip:     1,
		},
	}, nil
}

// train trains m on windows of ids with AdamW and returns the loss of every step. Each step
// draws p.batch random windows of BlockSize+1 ids (inputs and next-id targets); a text only one
// window long is thus the same window every step.
func train(ctx context.Context, e *env, m *model.GPT, ids []int, p plan) ([]float64, error) {
	tr, err := newTrainer(e, m, ids, p)
	if err != nil {
		return nil, err
	}
	return tr.run(ctx, p.steps)
}

// run trains n more steps and returns their losses.
func (tr *trainer) run(ctx context.Context, n int) ([]float64, error) {
	t, b := tr.m.Config.BlockSize, tr.p.batch
	x, y := make([]int, 0, b*t), make([]int, 0, b*t)
	losses := make([]float64, 0, n)
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		loss, err := tr.st.Step(tr.step, func(int) (*autograd.Var, error) {
			x, y = x[:0], y[:0]
			for range b {
				i := tr.rng.IntN(len(tr.ids) - t)
				x = append(x, tr.ids[i:i+t]...)
				y = append(y, tr.ids[i+1:i+1+t]...)
			}
			return tr.m.Loss(x, y, b, t)
		})
		if err != nil {
			return nil, err
		}
		l := float64(loss)
		losses = append(losses, l)
		tr.step++
		if r := tr.p.report; r > 0 && (tr.step%r == 0 || tr.step == 1) {
			tr.e.printf("  step %4d/%d: loss %.3f\n", tr.step, tr.p.steps, l)
		}
	}
	return losses, nil
}

// sample generates from prompt with s and returns the prompt and the new text.
func sample(ctx context.Context, m *model.GPT, tok tokenizer.Tokenizer, prompt string, s model.Sampling) (string, error) {
	ids := tok.Encode(prompt)
	if len(ids) == 0 {
		return "", fmt.Errorf("the prompt %q has no character of the vocabulary", prompt)
	}
	out, err := m.GenerateAll(ctx, ids, s)
	if err != nil {
		return "", err
	}
	text, err := tok.Decode(out)
	return prompt + text, err
}

// meanLoss is the model's average loss over every position of a text (one window of at most
// BlockSize+1 ids at a time, without a graph): how surprised it is by the text.
func meanLoss(m *model.GPT, ids []int) (float64, error) {
	f := m.Frozen()
	t := m.Config.BlockSize
	sum, n := 0.0, 0
	for i := 0; i+1 < len(ids); i += t {
		w := min(t, len(ids)-1-i)
		l, err := f.Loss(ids[i:i+w], ids[i+1:i+1+w], 1, w)
		if err != nil {
			return 0, err
		}
		sum += float64(l.Item()) * float64(w)
		n += w
	}
	return sum / float64(n), nil
}

// guess is one candidate for the next token: its score (logit) and its probability.
type guess struct {
	id          int
	score, prob float64
}

// nextGuesses runs ids through m and returns its guesses for the token after them, most likely
// first: the scores of the last position and their softmax.
func nextGuesses(m *model.GPT, ids []int) ([]guess, error) {
	ids = ids[max(0, len(ids)-m.Config.BlockSize):]
	logits, err := m.Frozen().Forward(ids, 1, len(ids)) // (1, T, V)
	if err != nil {
		return nil, err
	}
	v := m.Config.VocabSize
	last := logits.Value.Contiguous().Data()[(len(ids)-1)*v:]
	scores := make([]float64, v)
	for i := range scores {
		scores[i] = float64(last[i])
	}
	probs := softmax(scores)
	gs := make([]guess, v)
	for i := range gs {
		gs[i] = guess{id: i, score: scores[i], prob: probs[i]}
	}
	slices.SortStableFunc(gs, func(a, b guess) int {
		switch {
		case a.prob > b.prob:
			return -1
		case a.prob < b.prob:
			return 1
		}
		return 0
	})
	return gs, nil
}

// softmax turns scores into probabilities: e^score, divided by the sum of them all (after
// subtracting the largest score, which changes nothing but keeps e^score from overflowing).
func softmax(scores []float64) []float64 {
	top := slices.Max(scores)
	out := make([]float64, len(scores))
	sum := 0.0
	for i, s := range scores {
		out[i] = math.Exp(s - top)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// show writes a character or token so that a reader can see it: a space as ␣, a new line as ⏎,
// and other invisible characters quoted.
func show(s string) string {
	switch s {
	case " ":
		return "␣"
	case "\n":
		return "⏎"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			b.WriteRune('␣')
		case r == '\n':
			b.WriteRune('⏎')
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, "%q", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// label writes a token for a picture's axis, in what the plot's font can draw: a space as ·
// and a new line as ¶.
func label(s string) string {
	return strings.NewReplacer(" ", "·", "\n", "¶", "\t", "→").Replace(s)
}

// charLabels returns the pictures' labels of a sequence of character ids.
func charLabels(tok *tokenizer.Char, ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		s, _ := tok.Decode([]int{id})
		out[i] = label(s)
	}
	return out
}

// seriesOf returns the points (1, v[0]), (2, v[1]), ... of a per-step curve, as float64 x and y.
func seriesOf(v []float64) (x, y []float64) {
	x = make([]float64, len(v))
	for i := range x {
		x[i] = float64(i + 1)
	}
	return x, slices.Clone(v)
}
