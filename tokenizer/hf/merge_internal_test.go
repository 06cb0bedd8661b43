package hf

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMergeLongMatchesScan checks the linear merge of long words, and the merge chunk by chunk (with
// chunks small enough to put many seams in each word), against the plain quadratic scan (the
// reference, written as Hugging Face's merge_all reads) on words of every length, cut from varied
// text and from runs of one character, with a tokenizer of each fixture directory.
func TestMergeLongMatchesScan(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		tok, err := ReadFile(dir + "/tokenizer.json")
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(3, 4))
		source := strings.Repeat("Hello, wörld! 漢字 🙂 aaaa     1234567 don't ", 40)
		words := []string{strings.Repeat("a", 3000), strings.Repeat(" ", 999), strings.Repeat("ab", 700), strings.Repeat("字", 500)}
		for range 200 {
			a := rng.IntN(len(source))
			words = append(words, source[a:min(len(source), a+rng.IntN(1500))])
		}
		for _, w := range words {
			syms := tok.model.symbols(nil, w)
			want := tok.model.mergeScan(nil, append([]symbol(nil), syms...))
			got := tok.model.mergeLong(nil, append([]symbol(nil), syms...))
			require.Equal(t, want, got, "%s: %q", dir, w)
			for _, chunk := range []int{7, 16, 64} {
				chunkSyms = chunk
				got = tok.model.mergeChunked(nil, syms)
				chunkSyms = 4096
				require.Equal(t, want, got, "%s: chunks of %d: %q", dir, chunk, w)
			}
		}
	}
}
