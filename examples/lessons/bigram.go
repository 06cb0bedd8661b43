package main

import (
	"math"
	"slices"
	"strings"

	"github.com/goformer/goformer/tokenizer"
)

// The simplest guesser of the next character, before any network: count, in the text, which
// character follows which (a bigram table), and guess in proportion to the counts. It is step
// 3's baseline: the GPT earns its keep only by doing better than this.

// bigramCounts returns counts[a][b]: how often character b follows character a in ids.
func bigramCounts(ids []int, vocab int) [][]int {
	counts := make([][]int, vocab)
	for i := range counts {
		counts[i] = make([]int, vocab)
	}
	for i := 0; i+1 < len(ids); i++ {
		counts[ids[i]][ids[i+1]]++
	}
	return counts
}

// bigramProb is the table's probability that b follows a: its count over the count of
// everything that follows a (0 when a is never followed by anything).
func bigramProb(counts [][]int, a, b int) float64 {
	total := 0
	for _, c := range counts[a] {
		total += c
	}
	if total == 0 {
		return 0
	}
	return float64(counts[a][b]) / float64(total)
}

// bigramMeanLoss is the table's average penalty (cross-entropy) over every next character of
// ids. On the text it counted, every pair it meets has a count, so no probability is 0.
func bigramMeanLoss(counts [][]int, ids []int) float64 {
	sum := 0.0
	for i := 0; i+1 < len(ids); i++ {
		sum -= math.Log(bigramProb(counts, ids[i], ids[i+1]))
	}
	return sum / float64(len(ids)-1)
}

// bigramComplete writes n characters from prompt, each the most frequent follower of the last
// (the first in vocabulary order on a tie).
func bigramComplete(counts [][]int, tok *tokenizer.Char, prompt []int, n int) string {
	var b strings.Builder
	last := prompt[len(prompt)-1]
	for range n {
		next := 0
		for j, c := range counts[last] {
			if c > counts[last][next] {
				next = j
			}
		}
		if counts[last][next] == 0 {
			break
		}
		c, _ := tok.Decode([]int{next})
		b.WriteString(c)
		last = next
	}
	return b.String()
}

// showBigram prints the counting table's guesses after the prompt's last character and its
// average penalty over the text, and returns the table and that penalty.
func showBigram(e *env, tok *tokenizer.Char, ids, prompt []int) ([][]int, float64) {
	counts := bigramCounts(ids, tok.VocabSize())
	last := prompt[len(prompt)-1]
	lc, _ := tok.Decode([]int{last})
	e.para(`Before any network, the simplest guesser: count, in the text, which character follows
		which (a bigram table), and guess each follower with the share of the times it followed.
		It needs no training, and it knows only the last character.`)
	type follower struct {
		id, n int
	}
	var fs []follower
	total := 0
	for j, c := range counts[last] {
		if c > 0 {
			fs = append(fs, follower{j, c})
			total += c
		}
	}
	slices.SortStableFunc(fs, func(a, b follower) int { return b.n - a.n })
	e.printf("After %s (the prompt's last character) the text has:\n", show(lc))
	for _, f := range fs[:min(5, len(fs))] {
		c, _ := tok.Decode([]int{f.id})
		e.printf("  %-3s %2d of %d times: probability %.3f\n", show(c), f.n, total, float64(f.n)/float64(total))
	}
	if len(fs) > 5 {
		e.printf("  and %d other characters\n", len(fs)-5)
	}
	loss := bigramMeanLoss(counts, ids)
	e.printf("Its average penalty over the whole text: %.3f. The GPT below must do better than this to be worth its weights.\n\n", loss)
	return counts, loss
}
