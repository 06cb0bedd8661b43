package tokenizer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer"
)

// GPT-2's original files, read by LoadGPT2, must give the same tokenizer as the tiktoken rank file.
func TestLoadGPT2MatchesTiktoken(t *testing.T) {
	encJSON := readFixture(t, "", fixture.GPT2EncoderRel)
	vocab := readFixture(t, "", fixture.GPT2MergesRel)
	enc, err := tokenizer.LoadGPT2(bytes.NewReader(encJSON), bytes.NewReader(vocab))
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

// Writing the built-in encodings back out reproduces OpenAI's files byte for byte.
func TestWriteTiktokenReproducesFiles(t *testing.T) {
	for rel, name := range map[string]string{fixture.R50kRel: "gpt2", fixture.CL100kRel: "cl100k_base"} {
		orig := readFixture(t, "", rel)
		var buf bytes.Buffer
		require.NoError(t, encodings(t)[name].WriteTiktoken(&buf))
		assert.True(t, bytes.Equal(orig, buf.Bytes()), "%s differs from %s", name, rel)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	enc := encodings(t)["cl100k_base"]
	prefix := filepath.Join(t.TempDir(), "cl100k")
	require.NoError(t, enc.Save(prefix))
	js, err := os.ReadFile(prefix + ".json")
	require.NoError(t, err)
	assert.Contains(t, string(js), `"<|endofprompt|>": 100276`)
	back, err := tokenizer.Load(prefix)
	require.NoError(t, err)
	assert.Equal(t, enc.Ranks(), back.Ranks())
	assert.Equal(t, enc.Special(), back.Special())
	assert.Equal(t, enc.Pattern(), back.Pattern())
	text := "Round trip: <|endoftext|> 'Sup?"
	assert.Equal(t, enc.Encode(text), back.Encode(text))

	_, err = tokenizer.Load(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
}

// allBytes is a minimal valid rank file: the 256 single bytes.
func allBytes() string {
	var sb strings.Builder
	for b := range 256 {
		sb.WriteString(b64([]byte{byte(b)}) + " " + itoa(b) + "\n")
	}
	return sb.String()
}

func TestLoadTiktokenErrors(t *testing.T) {
	good := allBytes()
	_, err := tokenizer.LoadTiktoken(strings.NewReader(good), nil, tokenizer.GPT2Pattern)
	require.NoError(t, err)
	bad := map[string]string{
		"empty":          "",
		"no space":       "IQ==\n",
		"bad base64":     "!!! 0\n",
		"bad rank":       "IQ== x\n",
		"negative rank":  "IQ== -1\n",
		"huge rank":      good + b64([]byte("ab")) + " 99999999999\n",
		"far rank":       good + b64([]byte("ab")) + " 100000000\n",
		"duplicate":      good + b64([]byte{0}) + " 256\n",
		"same id":        good + b64([]byte("ab")) + " 5\n",
		"missing byte":   strings.Replace(good, b64([]byte{'A'})+" 65\n", "", 1),
		"empty token":    good + " 256\n",
		"very long line": strings.Repeat("A", 1<<17) + " 1\n",
	}
	for name, file := range bad {
		_, err := tokenizer.LoadTiktoken(strings.NewReader(file), nil, tokenizer.GPT2Pattern)
		assert.Error(t, err, name)
	}
	for name, special := range map[string]map[string]int{
		"collides": {"<|x|>": 3},
		"negative": {"<|x|>": -1},
		"empty":    {"": 300},
		"far":      {"<|x|>": 1 << 30},
	} {
		_, err := tokenizer.LoadTiktoken(strings.NewReader(good), special, tokenizer.GPT2Pattern)
		assert.Error(t, err, name)
	}
	_, err = tokenizer.LoadTiktoken(strings.NewReader(good), nil, `(?<=x)y`)
	assert.Error(t, err)
}

func TestLoadGPT2Errors(t *testing.T) {
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
	ok, err := tokenizer.LoadGPT2(strings.NewReader(encJSON(`"ab":256,`)), strings.NewReader("#version: 0.2\na b\n"))
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
		_, err := tokenizer.LoadGPT2(strings.NewReader(c[0]), strings.NewReader(c[1]))
		assert.Error(t, err, name)
	}
}

func TestLoadFromErrors(t *testing.T) {
	good := allBytes()
	_, err := tokenizer.LoadFrom(strings.NewReader(good), strings.NewReader(`{"pattern": "\\w+", "special_tokens": {"<s>": 256}}`))
	require.NoError(t, err)
	for _, cfg := range []string{``, `{`, `{"pattern": 3}`, `{"pattern": "(", "special_tokens": {}}`, `{"unknown": 1}`} {
		_, err := tokenizer.LoadFrom(strings.NewReader(good), strings.NewReader(cfg))
		assert.Error(t, err, cfg)
	}
}
