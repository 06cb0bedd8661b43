package tokenizer

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadShared loads a .tiktoken file from ../shared/data/tokenizers, skipping if it is missing.
func loadShared(t testing.TB, file, pattern string) *BPE {
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Skip("repository root not found")
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "data", "tokenizers", file)
	f, err := os.Open(p)
	if err != nil {
		t.Skipf("missing %s (../shared/data/tokenizers/%s)", p, file)
	}
	defer f.Close()
	enc, err := LoadTiktoken(f, nil, pattern)
	require.NoError(t, err)
	return enc
}

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
	enc := loadShared(t, "cl100k_base.tiktoken", CL100kPattern)
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

func readSharedText(t testing.TB, rel string) string {
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Skip("repository root not found")
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(filepath.Dir(dir), "shared", rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("missing %s (../shared/%s)", p, rel)
	}
	return string(b)
}

// The fast rank lookup must agree with the map for every token and for strings that are not tokens.
func TestRankTableMatchesMap(t *testing.T) {
	enc := loadShared(t, "cl100k_base.tiktoken", CL100kPattern)
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
