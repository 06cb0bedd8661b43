package tokenizer_test

import (
	"bytes"
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
	enc, err := tokenizer.ReadGPT2(bytes.NewReader(encJSON), bytes.NewReader(vocab))
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
	ok, err := tokenizer.ReadGPT2(strings.NewReader(encJSON(`"ab":256,`)), strings.NewReader("#version: 0.2\na b\n"))
	require.NoError(t, err)
	assert.Equal(t, []int{256}, ok.Encode("ab"))
	assert.Equal(t, map[string]int{"<|endoftext|>": 257}, ok.Special())

	cases := map[string][2]string{
		"bad json":        {`{"a":`, "#version: 0.2\n"},
		"merge line":      {encJSON(`"ab":256,`), "#version: 0.2\nab\n"},
		"three parts":     {encJSON(`"ab":256,`), "#version: 0.2\na b c\n"},
		"unknown part":    {encJSON(`"ab":256,`), "#version: 0.2\nab c\n"},
		"not in alphabet": {encJSON(`"ab":256,`), "#version: 0.2\na \u0500\n"},
		"id mismatch":     {encJSON(`"ab":300,`), "#version: 0.2\na b\n"},
		"missing token":   {encJSON(``), "#version: 0.2\na b\n"},
		"made twice":      {encJSON(`"ab":256,`), "#version: 0.2\na b\na b\n"},
	}
	for name, c := range cases {
		_, err := tokenizer.ReadGPT2(strings.NewReader(c[0]), strings.NewReader(c[1]))
		assert.Error(t, err, name)
	}
}
