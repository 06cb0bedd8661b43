package tokenizer_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer"
)

// GPT-2's original files, read by ReadGPT2, must give the same tokenizer as the tiktoken rank file.
func TestReadGPT2MatchesTiktoken(t *testing.T) {
	encJSON := readFixture(t, "", fixture.GPT2EncoderRel)
	vocab := readFixture(t, "", fixture.GPT2MergesRel)
	enc, err := tokenizer.ReadGPT2(bytes.NewReader(encJSON), bytes.NewReader(vocab), []string{"<|endoftext|>"})
	require.NoError(t, err)
	ref := encodings(t)["gpt2"]
	assert.Equal(t, ref.Ranks(), enc.Ranks())
	assert.Equal(t, map[string]int{"<|endoftext|>": 50256}, enc.Special())
	assert.Equal(t, 50257, enc.VocabSize())
	merges := enc.Merges()
	require.Len(t, merges, 50000)
	for _, m := range merges[:100] {
		l, _ := enc.TokenBytes(m.Left)
		r, _ := enc.TokenBytes(m.Right)
		res, _ := enc.TokenBytes(m.Result)
		assert.Equal(t, string(l)+string(r), string(res))
	}
	text := "Hello, world! It's 2024 and I'm testing GPT-2's tokenizer.\n\n  Indented."
	assert.Equal(t, ref.Encode(text), enc.Encode(text))
}

func TestReadGPT2Errors(t *testing.T) {
	encJSON := func(extra string) string {
		var sb strings.Builder
		sb.WriteString("{")
		// GPT-2's alphabet: printable bytes stand for themselves, the rest start at U+0100.
		next := rune(0x100)
		id := 0
		for b := range 256 {
			if '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF {
				sb.WriteString(quote(string(rune(b))) + ":" + itoa(id) + ",")
				id++
			}
		}
		for b := range 256 {
			if !('!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF) {
				sb.WriteString(quote(string(next)) + ":" + itoa(id) + ",")
				next++
				id++
			}
		}
		sb.WriteString(extra)
		sb.WriteString(`"<|endoftext|>":` + itoa(id+1) + "}")
		return sb.String()
	}
	eot := []string{"<|endoftext|>"}
	ok, err := tokenizer.ReadGPT2(strings.NewReader(encJSON(`"ab":256,`)), strings.NewReader("#version: 0.2\na b\n"), eot)
	require.NoError(t, err)
	assert.Equal(t, []int{256}, ok.Encode("ab"))
	assert.Equal(t, map[string]int{"<|endoftext|>": 257}, ok.Special())

	cases := map[string]struct {
		encJSON, vocab string
		special        []string
	}{
		"bad json":            {`{"a":`, "#version: 0.2\n", eot},
		"merge line":          {encJSON(`"ab":256,`), "#version: 0.2\nab\n", eot},
		"three parts":         {encJSON(`"ab":256,`), "#version: 0.2\na b c\n", eot},
		"unknown part":        {encJSON(`"ab":256,`), "#version: 0.2\nab c\n", eot},
		"not in alphabet":     {encJSON(`"ab":256,`), "#version: 0.2\na \u0500\n", eot},
		"id mismatch":         {encJSON(`"ab":300,`), "#version: 0.2\na b\n", eot},
		"missing token":       {encJSON(``), "#version: 0.2\na b\n", eot},
		"made twice":          {encJSON(`"ab":256,`), "#version: 0.2\na b\na b\n", eot},
		"entry of no merge":   {encJSON(`"ab":256,"cd":258,`), "#version: 0.2\na b\n", eot},
		"special not named":   {encJSON(`"ab":256,`), "#version: 0.2\na b\n", nil},
		"special not there":   {encJSON(`"ab":256,`), "#version: 0.2\na b\n", append(eot, "<|pad|>")},
		"special is ordinary": {encJSON(`"ab":256,`), "#version: 0.2\na b\n", append(eot, "ab")},
	}
	for name, c := range cases {
		_, err := tokenizer.ReadGPT2(strings.NewReader(c.encJSON), strings.NewReader(c.vocab), c.special)
		assert.Error(t, err, name)
	}
}

// A vocab.bpe cut short used to load without complaint: the tokens whose merges were lost became
// "special" tokens and ordinary words encoded as fragments. Every cut must be an error instead.
func TestReadGPT2RejectsTruncatedMerges(t *testing.T) {
	encJSON := readFixture(t, "", fixture.GPT2EncoderRel)
	vocab := readFixture(t, "", fixture.GPT2MergesRel)
	full, err := tokenizer.ReadGPT2(bytes.NewReader(encJSON), bytes.NewReader(vocab), []string{"<|endoftext|>"})
	require.NoError(t, err)
	assert.Equal(t, []int{31373}, full.Encode("hello")) // tiktoken's gpt2 encoding

	lines := bytes.SplitAfter(vocab, []byte("\n"))
	cuts := map[string]int{
		"half the merges":     len(vocab) / 2,
		"all but the last":    len(vocab) - len(lines[len(lines)-2]),
		"inside the last one": len(vocab) - 3,
		"after the header":    len(lines[0]),
	}
	for _, n := range []int{1, 1000, 25000, 49990} {
		cuts[fmt.Sprintf("after %d lines", n)] = len(bytes.Join(lines[:n], nil))
	}
	for name, cut := range cuts {
		enc, err := tokenizer.ReadGPT2(bytes.NewReader(encJSON), bytes.NewReader(vocab[:cut]), []string{"<|endoftext|>"})
		if assert.ErrorContains(t, err, "vocab.bpe", name) {
			t.Logf("%s: %v", name, err)
		} else {
			t.Logf("%s: %d specials, hello -> %v", name, len(enc.Special()), enc.Encode("hello"))
		}
	}
}
