package tokenizer

import (
	"math/rand/v2"
	"slices"
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

// checkMerges compares every merge with naiveMerge on piece: mergeSmall (where it applies),
// mergeLong, and mergeChunked with chunks of a few sizes, so that seams fall everywhere.
func checkMerges(t *testing.T, enc *BPE, piece string) {
	t.Helper()
	want := naiveMerge(enc, piece)
	if len(piece) <= smallPiece {
		require.Equal(t, want, enc.mergeSmall(nil, piece), "small %q", piece)
	}
	require.Equal(t, want, enc.mergeLong(nil, piece), "long %q", piece)
	// Pieces over 2 GiB take 64-bit positions; the same code must give the same tokens.
	wide := &longMerge[int64]{slot: make([]int32, len(enc.tokens))}
	require.Equal(t, want, mergeLongWith(enc, wide, nil, piece), "long, 64-bit positions, %q", piece)
	defer func(c int) { chunkSize = c }(chunkSize)
	for _, c := range []int{1, 3, 8, 21} {
		chunkSize = c
		require.Equal(t, want, enc.mergeChunked(nil, piece), "chunks of %d, %q", c, piece)
	}
}

// randomPiece joins random choices from words.
func randomPiece(rng *rand.Rand, words []string, maxWords int) string {
	var sb strings.Builder
	for range 1 + rng.IntN(maxWords) {
		sb.WriteString(words[rng.IntN(len(words))])
	}
	return sb.String()
}

func TestMergeAlgorithmsAgree(t *testing.T) {
	enc := cl100kFromFixture(t)
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"a", "b", "ab", "the", "ing", " ", "é", "\xff", "1", "aa", "ll", "0"}
	for range 2000 {
		checkMerges(t, enc, randomPiece(rng, words, 60))
	}
	for _, long := range []string{
		strings.Repeat("a", 3000) + strings.Repeat("ab", 500),
		strings.Repeat(" ", 2000),
		strings.Repeat("\n", 1000) + strings.Repeat(" \n", 300),
		randomPiece(rng, []string{"q", "u", "i", "c", "k", "ly"}, 1500),
	} {
		checkMerges(t, enc, long)
	}
}

// randomVocab returns a BPE whose mergeable tokens beyond the bytes are random strings over alphabet
// with random ranks. Unlike a trained vocabulary, it has tokens that no merge reaches and merges that
// make a token of lower rank than the pair's parts (the new pair must then be merged first), so it
// exercises every path of the merges.
func randomVocab(t testing.TB, rng *rand.Rand, alphabet string, n int) *BPE {
	ranks := make(map[string]int, 256+n)
	for b := range 256 {
		ranks[string([]byte{byte(b)})] = b
	}
	var extra []string
	for len(extra) < n {
		tok := randomPiece(rng, strings.Split(alphabet, ""), 5) + alphabet[rng.IntN(len(alphabet)):][:1]
		if _, ok := ranks[tok]; !ok {
			ranks[tok] = -1
			extra = append(extra, tok)
		}
	}
	for i, k := range rng.Perm(len(extra)) {
		ranks[extra[k]] = 256 + i
	}
	enc, err := New(ranks, nil, `\w+|\W+`)
	require.NoError(t, err)
	return enc
}

func TestMergeAlgorithmsAgreeOnRandomVocabularies(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		enc := randomVocab(t, rng, "abc", 60)
		for range 100 {
			checkMerges(t, enc, randomPiece(rng, []string{"a", "b", "c", "ab", "ca", "abc"}, 40))
		}
		checkMerges(t, enc, randomPiece(rng, []string{"a", "b", "c"}, 600))
		checkMerges(t, enc, strings.Repeat("a", 300))
	}
}

// The merges must agree on any input, with any vocabulary.
func FuzzMerge(f *testing.F) {
	f.Add(uint64(1), "abcabcaabbcc")
	f.Add(uint64(2), strings.Repeat("a", 200))
	f.Add(uint64(3), "cabbage")
	f.Fuzz(func(t *testing.T, seed uint64, text string) {
		if len(text) > 400 {
			return // the naive oracle is cubic
		}
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		enc := randomVocab(t, rng, "abc", 1+rng.IntN(80))
		// Map the fuzzer's bytes onto the vocabulary's alphabet, where merges happen.
		piece := []byte(text)
		for i, c := range piece {
			piece[i] = "abc"[c%3]
		}
		if len(piece) > 0 {
			checkMerges(t, enc, string(piece))
		}
	})
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

// A bucket gives its candidates back leftmost first, whatever order they arrive in, also while it
// drains.
func TestBucketIsAPriorityQueue(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		b := bucket[int32]{sorted: true}
		var waiting []span[int32] // the oracle: kept sorted by start
		for range rng.IntN(100) {
			if rng.IntN(3) > 0 || len(waiting) == 0 {
				s := span[int32]{int32(rng.IntN(1000)), 0}
				s.end = s.start + 2
				b.add(s)
				i, _ := slices.BinarySearchFunc(waiting, s, byStart[int32])
				waiting = slices.Insert(waiting, i, s)
				continue
			}
			got, ok := b.next()
			require.True(t, ok)
			require.Equal(t, waiting[0].start, got.start)
			waiting = waiting[1:]
		}
		for range waiting {
			got, ok := b.next()
			require.True(t, ok)
			require.Equal(t, waiting[0].start, got.start)
			waiting = waiting[1:]
		}
		_, ok := b.next()
		require.False(t, ok)
	}
}
