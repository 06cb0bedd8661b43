package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer"
)

// rhyme is the text step 3 learns by heart.
const rhyme = `Humpty Dumpty sat on a wall,
Humpty Dumpty had a great fall.
All the king's horses and all the king's men
Couldn't put Humpty together again.
`

// guessBlock is the context the guessing model reads: windows of this many characters, each
// starting anywhere in the text. Starting anywhere is what lets a prompt taken from the middle of
// the text continue it: the model learns what follows each stretch of text, not what sits at
// each position from the text's start.
const guessBlock = 32

// guessLesson: training is a guessing game.
func guessLesson(ctx context.Context, e *env) error {
	text, source := rhyme, "the rhyme"
	if e.text != "" {
		b, err := os.ReadFile(e.text)
		if err != nil {
			return err
		}
		text, source = string(b), e.text
	}
	tok := tokenizer.NewChar(text)
	ids := tok.Encode(text)
	if len(ids) < 3 {
		return fmt.Errorf("%s is too short to learn from (%d characters)", source, len(ids))
	}
	prompt := e.prompt
	if prompt == "" {
		prompt = openingWords(text, 3)
	}
	promptIDs, err := tok.EncodeStrict(prompt)
	if err != nil {
		return fmt.Errorf("-prompt %q: %w (it may only use the text's characters)", prompt, err)
	}
	if len(promptIDs) == 0 {
		return fmt.Errorf("-prompt is empty")
	}

	e.para(`A language model plays a guessing game: shown the start of a text, it guesses the next
		character. It does not answer with one character but with a probability for every
		character it knows. The network computes a score for each, and softmax turns the scores into
		probabilities: raise e to the power of each score and divide by the sum of them all, so the
		probabilities are positive and add up to 1.`)
	e.para(`The penalty for a guess is the cross-entropy loss: minus the natural logarithm of the
		probability the model gave to the character that really came next. Certain and right (1) costs
		0; a half-hearted 0.5 costs 0.69; 0.01 costs 4.6. Training nudges every weight to make the total
		penalty smaller, so the right characters get more probability next time.`)
	e.printf("The text (%s), %d characters, %d different:\n\n%s\n", source, len(ids), tok.VocabSize(), indent(text))

	// Every step shows the model a batch of windows that start at random places, so each
	// character is learnt from the characters before it, wherever they sit.
	block := min(len(ids)-1, guessBlock)
	cfg := model.Config{VocabSize: tok.VocabSize(), BlockSize: block, NLayer: 2, NHead: 4, NEmbd: 64}
	p := plan{steps: 300, batch: 16, lr: 3e-3, report: 50}
	if e.tiny {
		cfg.NEmbd = 48
	}
	counts, bigramLoss := showBigram(e, tok, ids, promptIDs)

	m, err := model.New(cfg, e.seed)
	if err != nil {
		return err
	}
	e.printf("Code: model/gpt.go (the model and its Loss), autograd/ops_nn.go (CrossEntropy, Softmax), optim/adamw.go (the update), tokenizer/char.go.\n")
	e.printf("Model: a GPT of %d layers, %d wide, %d parameters, all random to begin with.\n\n", cfg.NLayer, cfg.NEmbd, m.NumParams())

	if err := showGuesses(e, m, tok, ids, promptIDs, "Before training"); err != nil {
		return err
	}
	before, err := textLoss(m, ids)
	if err != nil {
		return err
	}
	e.printf("Average penalty over the whole text: %.3f (guessing blindly among %d characters costs ln %d = %.3f).\n\n",
		before, tok.VocabSize(), tok.VocabSize(), math.Log(float64(tok.VocabSize())))

	e.printf("Training: %d steps; each shows the model %d stretches of %d characters, starting anywhere in the text\n(running on from its end into its start), penalises its guesses at every character and nudges the weights.\n", p.steps, p.batch, block)
	// The windows run on from the text's end into its start, as if it were recited in a loop, so
	// that every character starts as many windows as every other: without that, the end of the
	// text would only ever be seen late in a window, and a prompt taken from there (which the
	// model reads from position 0) would be new to it.
	loop := append(slices.Clone(ids), ids[:block]...)
	losses, err := train(ctx, e, m, loop, p)
	if err != nil {
		return err
	}
	after, err := textLoss(m, ids)
	if err != nil {
		return err
	}
	e.printf("\nAverage penalty over the whole text: %.3f before training, %.3f after (the counting table: %.3f).\n\n", before, after, bigramLoss)
	if err := showGuesses(e, m, tok, ids, promptIDs, "After training"); err != nil {
		return err
	}

	completion, err := complete(ctx, m, tok, promptIDs, len(ids))
	if err != nil {
		return err
	}
	e.para(`Now let it write: give it the start, take its most likely character, add it to the text,
		and guess again. Having learnt the text, it recites it, from any start taken from inside it:
		it learnt what follows each stretch of characters, wherever the stretch stood. (A start that
		occurs twice in the text, followed by different things, leaves it two ways to go on; it takes
		one.)`)
	e.printf("completion: %s\n\n", prompt+completion)
	e.printf("The counting table, writing the same way from the same start (it knows only the last character):\n%s\n\n", prompt+bigramComplete(counts, tok, promptIDs, len(completion)))

	if path := e.picture("guess-loss.png"); path != "" {
		x, y := seriesOf(losses)
		if err := plots.Lines(path, plots.Labels{Title: "Guessing the next character: the penalty falls", X: "training step", Y: "loss (cross-entropy)"},
			plots.Series{Name: "the GPT", X: x, Y: y},
			plots.Series{Name: "the counting table", X: []float64{1, float64(len(losses))}, Y: []float64{bigramLoss, bigramLoss}}); err != nil {
			return err
		}
		e.drew(path, "the loss at every training step, and the counting table's as a level line")
	}
	return nil
}

// showGuesses prints the model's five best guesses for the character after the prompt, with
// their scores and probabilities, and the penalty for the true next character when the prompt
// starts the text.
func showGuesses(e *env, m *model.GPT, tok *tokenizer.Char, text, prompt []int, when string) error {
	gs, err := nextGuesses(m, prompt)
	if err != nil {
		return err
	}
	ps, _ := tok.Decode(prompt)
	e.printf("%s, the model's guesses for the character after %q:\n", when, ps)
	e.printf("  %-6s %8s %12s\n", "guess", "score", "probability")
	for _, g := range gs[:min(5, len(gs))] {
		c, _ := tok.Decode([]int{g.id})
		e.printf("  %-6s %8.2f %12.3f\n", show(c), g.score, g.prob)
	}
	if len(prompt) < len(text) && equalInts(text[:len(prompt)], prompt) {
		want := text[len(prompt)]
		c, _ := tok.Decode([]int{want})
		for _, g := range gs {
			if g.id == want {
				e.printf("The text goes on with %s: the model gave it %.3f, a penalty of −ln %.3f = %.3f.\n", show(c), g.prob, g.prob, -math.Log(g.prob))
			}
		}
	}
	e.printf("\n")
	return nil
}

// complete generates greedily from prompt to the end of the line after the prompt's line (at
// most limit characters) and returns the new text.
func complete(ctx context.Context, m *model.GPT, tok *tokenizer.Char, prompt []int, limit int) (string, error) {
	var b strings.Builder
	lines := 0
	for id, err := range m.Generate(ctx, prompt, model.Sampling{MaxNew: limit}) {
		if err != nil {
			return "", err
		}
		c, err := tok.Decode([]int{id})
		if err != nil {
			return "", err
		}
		b.WriteString(c)
		if c == "\n" {
			if lines++; lines == 2 {
				break
			}
		}
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// openingWords returns text up to the end of its n-th word.
func openingWords(text string, n int) string {
	inWord, words := false, 0
	for i, r := range text {
		space := r == ' ' || r == '\n' || r == '\t' || r == '\r'
		if inWord && space {
			if words++; words == n {
				return text[:i]
			}
		}
		inWord = !space
	}
	return strings.TrimRight(text, " \n\t\r")
}

// indent indents every line of text by two spaces.
func indent(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// textLoss is the model's average penalty over every next character of ids, each guessed from
// as many characters before it as the model reads (up to BlockSize), as when it writes: windows
// that overlap by half, each scoring the characters its first half has not.
func textLoss(m *model.GPT, ids []int) (float64, error) {
	f := m.Frozen()
	t := m.Config.BlockSize
	sum, n, scored := 0.0, 0, 0 // scored: targets ids[1..scored] are counted
	for start := 0; scored < len(ids)-1; start += max(1, t/2) {
		w := min(t, len(ids)-1-start)
		logits, err := f.Forward(ids[start:start+w], 1, w) // (1, w, V)
		if err != nil {
			return 0, err
		}
		v := m.Config.VocabSize
		data := logits.Value.Contiguous().Data()
		for i := range w {
			target := start + i + 1
			if target <= scored {
				continue
			}
			row := data[i*v : (i+1)*v]
			scores := make([]float64, v)
			for j, x := range row {
				scores[j] = float64(x)
			}
			sum -= math.Log(softmax(scores)[ids[target]])
			n++
		}
		scored = start + w
	}
	return sum / float64(n), nil
}
