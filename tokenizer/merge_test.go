package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// naiveMerge is the byte-pair merge written as plainly as possible: rebuild the parts each round,
// merging the lowest-ranked pair, the leftmost on ties.
func naiveMerge(t *BPE, piece string) []int {
	parts := make([]string, len(piece))
	for i := 0; i < len(piece); i++ { // bytes, not runes
		parts[i] = piece[i : i+1]
	}
	for {
		best, bi := int32(noRank), -1
		for i := 0; i+1 < len(parts); i++ {
			if r, ok := t.ranks[parts[i]+parts[i+1]]; ok && r < best {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		parts = append(parts[:bi+1], parts[bi+2:]...)
		parts[bi] = t.tokens[best]
	}
	ids := make([]int, len(parts))
	for i, p := range parts {
		ids[i] = int(t.ranks[p])
	}
	return ids
}

func TestMergeAlgorithmsAgree(t *testing.T) {
	enc := cl100kFromFixture(t)
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"a", "b", "ab", "the", "ing", " ", "é", "\xff", "1", "aa", "ll", "0"}
	for range 2000 {
		var sb strings.Builder
		for range rng.IntN(60) {
			sb.WriteString(words[rng.IntN(len(words))])
		}
		piece := sb.String()
		if piece == "" {
			continue
		}
		want := naiveMerge(enc, piece)
		require.Equal(t, want, enc.mergeHeap(nil, piece), "heap %q", piece)
		if len(piece) <= smallPiece {
			require.Equal(t, want, enc.mergeSmall(nil, piece), "small %q", piece)
		}
	}
	long := strings.Repeat("a", 3000) + strings.Repeat("ab", 500)
	assert.Equal(t, naiveMerge(enc, long), enc.mergeHeap(nil, long))
}

// The fast rank lookup must agree with the map for every token and for strings that are not tokens.
func TestRankTableMatchesMap(t *testing.T) {
	enc := cl100kFromFixture(t)
	for tok, r := range enc.ranks {
		require.Equal(t, r, enc.rank(tok), "%q", tok)
		for _, s := range []string{tok + "\x00", "\x00" + tok, tok[:len(tok)-1] + "\xfe"} {
			want, ok := enc.ranks[s]
			if !ok {
				want = noRank
			}
			require.Equal(t, want, enc.rank(s), "%q", s)
		}
	}
	assert.Equal(t, int32(noRank), enc.rank(strings.Repeat("x", 1000)))
}
