package tokenizer_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer"
)

var fuzzSeeds = []string{
	"", "Hello, world!", "  leading and trailing  ", "a  \u0085b", "  \ufeff", "don't DON'T 'ſ",
	"12345 ٣٣٣ Ⅻ", "\xff\xfe invalid \xe2\x82", "<|endoftext|> <|fim_prefix|>", "\r\n\r\n \t\n",
	"🙂🙃 漢字 ﷽", strings.Repeat("a", 300), strings.Repeat(" ", 100) + "x",
}

func roundTrip(t *testing.T, enc *tokenizer.BPE, s string) {
	ids := enc.Encode(s)
	back, err := enc.Decode(ids)
	require.NoError(t, err)
	require.Equal(t, s, back)
	require.Equal(t, len(ids), enc.Count(s))
	withSpecial, err := enc.EncodeSpecial(s, enc.SpecialNames())
	require.NoError(t, err)
	back, err = enc.Decode(withSpecial)
	require.NoError(t, err)
	require.Equal(t, s, back)
}

func FuzzRoundTripGPT2(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	enc := encodings(f)["gpt2"]
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, enc, s) })
}

func FuzzRoundTripCL100k(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	enc := encodings(f)["cl100k_base"]
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, enc, s) })
}

const trainText = `The quick brown fox jumps over the lazy dog. Cats chase mice; dogs chase cats.
It's 2024 and we're training a tokenizer: cats, catalogues, categories, cattle!
    Indented code() { return x + y; } // comment
Ünïcödé wörds, 日本語のテキスト, emoji 🙂🙂 and numbers 1234567890.
`

var trained = sync.OnceValues(func() (*tokenizer.BPE, error) {
	return tokenizer.Train(context.Background(), strings.Repeat(trainText, 3), tokenizer.TrainConfig{
		VocabSize: 400, Special: []string{"<|endoftext|>"},
	})
})

func FuzzRoundTripTrained(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	enc, err := trained()
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, enc, s) })
}

// The loaders return errors, never panic, whatever their input.

func FuzzReadTiktoken(f *testing.F) {
	f.Add([]byte(allBytes()))
	f.Add([]byte(allBytes() + b64([]byte("ab")) + " 256\n"))
	f.Add([]byte("IQ== 0\nIg== 1\n"))
	f.Add([]byte("IQ== 99999999999999999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		enc, err := tokenizer.ReadTiktoken(bytes.NewReader(data), map[string]int{"<|s|>": 300}, tokenizer.GPT2Pattern)
		if err == nil {
			roundTrip(t, enc, "fuzz <|s|> \xff text")
		}
	})
}

func FuzzReadGPT2(f *testing.F) {
	f.Add([]byte(`{"!": 0, "<|endoftext|>": 1}`), []byte("#version: 0.2\n! !\n"))
	f.Add([]byte(`{}`), []byte(""))
	f.Add([]byte(`{"a": -5}`), []byte("a b c\n"))
	f.Fuzz(func(t *testing.T, encJSON, vocab []byte) {
		enc, err := tokenizer.ReadGPT2(bytes.NewReader(encJSON), bytes.NewReader(vocab), []string{"<|endoftext|>"})
		if err == nil {
			roundTrip(t, enc, "fuzz text")
		}
	})
}

func FuzzCharFromVocab(f *testing.F) {
	f.Add("\n !abc", "abc!")
	f.Add("ba", "")
	f.Fuzz(func(t *testing.T, vocab, text string) {
		c, err := tokenizer.CharFromVocab(vocab)
		if err != nil {
			return
		}
		require.Equal(t, vocab, c.Vocab())
		ids, err := c.EncodeStrict(text)
		if err == nil {
			back, err := c.Decode(ids)
			require.NoError(t, err)
			require.Equal(t, text, back)
		}
	})
}

func FuzzStreamDecoder(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	enc := encodings(f)["cl100k_base"]
	f.Fuzz(func(t *testing.T, s string) {
		d := tokenizer.NewStreamDecoder(enc)
		var out strings.Builder
		for _, id := range enc.Encode(s) {
			piece, err := d.Add(id)
			require.NoError(t, err)
			out.WriteString(piece)
		}
		out.WriteString(d.Flush())
		require.Equal(t, s, out.String())
	})
}
