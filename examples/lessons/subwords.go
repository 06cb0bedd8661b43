package main

import (
	"context"
	"strings"

	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/tokenizer"
)

// catText is the small text step 5 learns its first merges from.
const catText = `the cat sat on the mat. the cats sat on the mats.
a cat and a rat. the rat saw the cat. the cats saw the rats.
that cat is fat. the fat cat sat on that mat, and the rat ran.
`

// wordsPattern cuts a text into words, runs of spaces and runs of other characters: merges never
// cross these pieces, so tokens stay inside words.
const wordsPattern = `\p{L}+|\s+|[^\s\p{L}]+`

// The BPE calls of the lessons, in one place: learning merges, and reading a tokenizer's merges
// and pieces.

// learnBPE learns a byte-pair encoding of vocab tokens (the 256 bytes and vocab−256 merges)
// from text, cutting it into pieces with pattern first.
func learnBPE(ctx context.Context, text string, vocab int, pattern string) (*tokenizer.BPE, error) {
	return tokenizer.Train(ctx, text, tokenizer.TrainConfig{VocabSize: vocab, Pattern: pattern})
}

// merge is one learnt rule, as text: Left and Right, side by side, become Result.
type merge struct{ left, right, result string }

// mergesOf returns the first n merges a BPE learnt, in the order it learnt them.
func mergesOf(t *tokenizer.BPE, n int) ([]merge, error) {
	var out []merge
	for _, m := range t.Merges()[:min(n, len(t.Merges()))] {
		var ss [3]string
		for i, id := range []int{m.Left, m.Right, m.Result} {
			s, err := t.Decode([]int{id})
			if err != nil {
				return nil, err
			}
			ss[i] = s
		}
		out = append(out, merge{ss[0], ss[1], ss[2]})
	}
	return out, nil
}

// piecesOf returns the tokens of text as strings.
func piecesOf(t *tokenizer.BPE, text string) ([]string, error) {
	var out []string
	for _, id := range t.Encode(text) {
		s, err := t.Decode([]int{id})
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// subwordsLesson: a byte-pair encoding learns pieces of words.
func subwordsLesson(ctx context.Context, e *env) error {
	e.para(`One token per character makes texts long: every character is a step for the model. One token
		per word would make the vocabulary huge, and a word never seen before could not be written at
		all. Byte-pair encoding (BPE) sits in between. It starts from the 256 possible bytes (a letter
		is one byte; other characters are two to four), finds the pair of neighbouring tokens that
		occurs most often in the text, makes it a new token, writes the text again with it, and
		repeats. Each round adds one token, a merge, to the vocabulary.`)
	e.printf("Code: tokenizer/train.go (Train: learning the merges), tokenizer/encode.go and tokenizer/merge.go (Encode: applying them).\n\n")

	const merges = 12
	small, err := learnBPE(ctx, catText, 256+merges, wordsPattern)
	if err != nil {
		return err
	}
	e.printf("The text:\n\n%s\n", indent(catText))
	e.printf("The first %d merges learnt from it:\n", merges)
	ms, err := mergesOf(small, merges)
	if err != nil {
		return err
	}
	for i, m := range ms {
		e.printf("  %2d. %-6s + %-6s → %s\n", i+1, quoted(m.left), quoted(m.right), quoted(m.result))
	}
	e.printf("\nWords split into pieces with these %d tokens:\n", small.VocabSize())
	for _, w := range []string{"cats", "the", "mats", "catnap", "rather"} {
		ps, err := piecesOf(small, w)
		if err != nil {
			return err
		}
		e.printf("  %-8s → %s\n", quoted(w), joinQuoted(ps))
	}
	e.printf("\n")

	e.para(`A word the text never had ("catnap") still gets written, from smaller pieces. More merges
		mean a bigger vocabulary and shorter texts. On Tiny Shakespeare (with GPT-2's rule for cutting
		text into words, which keeps a word's leading space), the whole text takes:`)
	sizes := []int{256, 512, 1024, 2048, 4096}
	if e.tiny {
		sizes = []int{256, 512, 1024}
	}
	text := shakespeare
	var xs, ys []float64
	var big *tokenizer.BPE
	e.printf("  %10s %10s %16s\n", "vocabulary", "tokens", "characters/token")
	for _, v := range sizes {
		t, err := learnBPE(ctx, text, v, tokenizer.GPT2Pattern)
		if err != nil {
			return err
		}
		n := len(t.Encode(text))
		e.printf("  %10d %10d %16.2f\n", v, n, float64(len([]rune(text)))/float64(n))
		xs, ys = append(xs, float64(v)), append(ys, float64(n))
		big = t
	}
	e.printf("\nWith %d tokens, some lines of Shakespeare split like this (␣ is a space):\n", big.VocabSize())
	for _, line := range []string{"First Citizen:", "Before we proceed any further, hear me speak.", "Thou art a villain."} {
		ps, err := piecesOf(big, line)
		if err != nil {
			return err
		}
		e.printf("  %s\n", joinQuoted(ps))
	}
	e.printf("\n")
	e.para(`GPT-2 uses 50,257 tokens learnt this way from 40 GB of web text; the later steps use single
		characters, which are enough for a small model of one play-sized text.`)

	if path := e.picture("subwords.png"); path != "" {
		if err := plots.Lines(path, plots.Labels{Title: "More merges, shorter text (Tiny Shakespeare)", X: "vocabulary size (tokens)", Y: "length of the text (tokens)"},
			plots.Series{Name: "tokens", X: xs, Y: ys}); err != nil {
			return err
		}
		e.drew(path, "the text's length in tokens against the vocabulary size")
	}
	return nil
}

// quoted writes a token between quotes, with its spaces and new lines visible.
func quoted(s string) string { return `"` + show(s) + `"` }

// joinQuoted writes tokens as "a" + "b" + ...
func joinQuoted(ps []string) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = quoted(p)
	}
	return strings.Join(q, " + ")
}
