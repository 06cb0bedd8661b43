package tokenizer

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
)

// naiveTrain is minbpe's RegexTokenizer.train with this package's tie-break and id-reuse rules:
// recount every pair of every piece each round, merge the best one everywhere.
func naiveTrain(t *testing.T, text, pattern string, vocabSize int) []Merge {
	sp, err := newSplitter(pattern)
	require.NoError(t, err)
	var words [][]int
	sp.each(text, func(a, b int) {
		w := make([]int, b-a)
		for i := range w {
			w[i] = int(text[a+i])
		}
		words = append(words, w)
	})
	vocab := make([]string, 256)
	for b := range vocab {
		vocab[b] = string([]byte{byte(b)})
	}
	var merges []Merge
	for len(vocab) < vocabSize {
		counts := map[[2]int]int{}
		for _, w := range words {
			for i := 0; i+1 < len(w); i++ {
				counts[[2]int{w[i], w[i+1]}]++
			}
		}
		var best [2]int
		bestN := 0
		for p, n := range counts {
			if n > bestN || n == bestN && (p[0] < best[0] || p[0] == best[0] && p[1] < best[1]) {
				best, bestN = p, n
			}
		}
		if bestN == 0 {
			break
		}
		s := vocab[best[0]] + vocab[best[1]]
		c := -1
		for id, v := range vocab {
			if v == s {
				c = id
			}
		}
		if c < 0 {
			c = len(vocab)
			vocab = append(vocab, s)
		}
		merges = append(merges, Merge{best[0], best[1], c})
		for k, w := range words {
			var out []int
			for i := 0; i < len(w); i++ {
				if i+1 < len(w) && w[i] == best[0] && w[i+1] == best[1] {
					out = append(out, c)
					i++
				} else {
					out = append(out, w[i])
				}
			}
			words[k] = out
		}
	}
	return merges
}

func TestTrainMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "b", "ab", "aa", "aaa", " ", "c", "\n", "the ", "é", "1", "'s", "ſ"}
	compared := 0
	for trial := range 40 {
		var sb strings.Builder
		for range 50 + rng.IntN(400) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		text := sb.String()
		pattern := []string{CL100kPattern, GPT2Pattern, `[a-z]+|.`}[trial%3]
		want := naiveTrain(t, text, pattern, 256+30)
		if len(want) < 30 {
			continue // text too poor for 30 merges; Train would refuse
		}
		compared++
		got, err := Train(context.Background(), text, TrainConfig{VocabSize: 256 + 30, Pattern: pattern})
		require.NoError(t, err)
		require.Equal(t, want, got.Merges(), "trial %d, text %q", trial, text)
	}
	assert.Greater(t, compared, 30)

}

func TestTrainMatchesNaiveOnShakespeare(t *testing.T) {
	text := string(readFixture(t, fixture.ShakespeareRel))[:12000]
	want := naiveTrain(t, text, CL100kPattern, 256+60)
	got, err := Train(context.Background(), text, TrainConfig{VocabSize: 256 + 60})
	require.NoError(t, err)
	assert.Equal(t, want, got.Merges())
}

func TestTrainReaderMatchesTrain(t *testing.T) {
	defer func(b int) { trainBlock = b }(trainBlock)
	trainBlock = 1000 // many cuts
	text := string(readFixture(t, fixture.ShakespeareRel))[:60000]
	text = strings.ReplaceAll(text, "\n\n", "\n<|endoftext|>\n") + "\n\n   tail  \r\n"
	for _, pattern := range []string{CL100kPattern, GPT2Pattern} {
		cfg := TrainConfig{VocabSize: 600, Pattern: pattern, Special: []string{"<|endoftext|>"}}
		want, err := Train(context.Background(), text, cfg)
		require.NoError(t, err)
		got, err := TrainReader(context.Background(), strings.NewReader(text), cfg)
		require.NoError(t, err)
		assert.Equal(t, want.Merges(), got.Merges())
		assert.Equal(t, want.Ranks(), got.Ranks())
	}
}

func TestSafeCut(t *testing.T) {
	assert.Equal(t, -1, safeCut([]byte("no line break here")))
	assert.Equal(t, -1, safeCut([]byte("a \nb\n c")))
	assert.Equal(t, 4, safeCut([]byte("a b\nc d")))
	assert.Equal(t, 8, safeCut([]byte("x.\ny z.\nw \n  ")))
}
