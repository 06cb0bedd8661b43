package tokenizer_test

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer"
)

// Ids that the vocabularies' README gives for tiktoken (its Rust core), on code points where
// js-tiktoken disagrees, so the public vectors leave them out.
func TestWhitespaceEdgeCases(t *testing.T) {
	encs := encodings(t)
	assert.Equal(t, []int{64, 220, 220, 126, 227, 65}, encs["gpt2"].Encode("a  \u0085b"))
	assert.Equal(t, []int{64, 256, 126, 227, 65}, encs["cl100k_base"].Encode("a  \u0085b"))
	assert.Equal(t, []int{220, 76880}, encs["cl100k_base"].Encode("  \uFEFF"))
}

func TestSpecialTokens(t *testing.T) {
	encs := encodings(t)
	g, c := encs["gpt2"], encs["cl100k_base"]
	text := "hello <|endoftext|> world"

	plain := g.Encode(text)
	assert.NotContains(t, plain, 50256, "Encode must treat specials as ordinary text")
	got, err := g.EncodeSpecial(text, nil)
	require.NoError(t, err)
	assert.Equal(t, plain, got)

	got, err = g.EncodeSpecial(text, []string{"<|endoftext|>"})
	require.NoError(t, err)
	want := append(append(g.Encode("hello "), 50256), g.Encode(" world")...)
	assert.Equal(t, want, got)

	// Allowed specials only: <|fim_prefix|> stays text while <|endoftext|> is recognised.
	got, err = c.EncodeSpecial("<|fim_prefix|>x<|endoftext|>", []string{"<|endoftext|>"})
	require.NoError(t, err)
	assert.Equal(t, append(c.Encode("<|fim_prefix|>x"), 100257), got)
	got, err = c.EncodeSpecial("<|fim_prefix|>x<|endoftext|>", c.SpecialNames())
	require.NoError(t, err)
	assert.Equal(t, []int{100258, c.Encode("x")[0], 100257}, got)

	_, err = g.EncodeSpecial(text, []string{"<|fim_prefix|>"})
	assert.Error(t, err, "gpt2 has no <|fim_prefix|>")

	name, found := c.ContainsSpecial("a <|endofprompt|> b <|endoftext|>")
	assert.True(t, found)
	assert.Equal(t, "<|endofprompt|>", name)
	_, found = c.ContainsSpecial("<|endoftext|")
	assert.False(t, found)

	s, err := c.Decode([]int{100257, 100276})
	require.NoError(t, err)
	assert.Equal(t, "<|endoftext|><|endofprompt|>", s)
	assert.True(t, c.IsSpecial(100276))
	assert.False(t, c.IsSpecial(100256), "unused id")
	assert.False(t, c.IsSpecial(60))
}

func TestVocabSizes(t *testing.T) {
	encs := encodings(t)
	assert.Equal(t, 50257, encs["gpt2"].VocabSize())
	assert.Equal(t, 50256, encs["gpt2"].NumMergeable())
	assert.Equal(t, 100277, encs["cl100k_base"].VocabSize())
	assert.Equal(t, 100256, encs["cl100k_base"].NumMergeable())
}

func TestDecodeErrors(t *testing.T) {
	c := encodings(t)["cl100k_base"]
	for _, id := range []int{-1, 100256, 100261, 100277, math.MaxInt} {
		_, err := c.Decode([]int{1, id})
		assert.ErrorIs(t, err, tokenizer.ErrUnknownToken, "id %d", id)
		_, err = c.TokenBytes(id)
		assert.ErrorIs(t, err, tokenizer.ErrUnknownToken, "id %d", id)
	}
	b, err := c.TokenBytes(9906) // "Hello", from the public vectors
	require.NoError(t, err)
	assert.Equal(t, []byte("Hello"), b)
}

func TestPartialUTF8Decode(t *testing.T) {
	for name, enc := range encodings(t) {
		text := "日本語 🙂 ok"
		ids := enc.Encode(text)
		var joined strings.Builder
		for _, id := range ids {
			s, err := enc.Decode([]int{id}) // single tokens may hold half a character
			require.NoError(t, err)
			joined.WriteString(s)
		}
		assert.Equal(t, text, joined.String(), name)
	}
}

// A 20 KB run of one letter is a single piece, which the merge for long pieces handles (its speed is
// tested in scaling_internal_test.go, its tokens against the plain merge in merge_test.go).
func TestLongPieceRoundTrip(t *testing.T) {
	for name, enc := range encodings(t) {
		for _, s := range []string{strings.Repeat("a", 20000), strings.Repeat("ab", 10000), strings.Repeat(" ", 20000), strings.Repeat("\xff", 20000)} {
			back, err := enc.Decode(enc.Encode(s))
			require.NoError(t, err)
			assert.Equal(t, s, back, name)
		}
	}
}

func TestEncodeBatchAndConcurrency(t *testing.T) {
	text := string(readFixture(t, "", fixture.ShakespeareRel))[:200000]
	texts := strings.SplitAfter(text, "\n\n")
	for name, enc := range encodings(t) {
		want := make([][]int, len(texts))
		for i, s := range texts {
			want[i] = enc.Encode(s)
		}
		assert.Equal(t, want, enc.EncodeBatch(texts), name)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := g; i < len(texts); i += 4 {
					assert.Equal(t, want[i], enc.Encode(texts[i]))
				}
			})
		}
		wg.Wait()
	}
	assert.Empty(t, encodings(t)["gpt2"].EncodeBatch(nil))
}
