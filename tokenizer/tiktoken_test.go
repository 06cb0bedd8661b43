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

// Writing the built-in encodings back out reproduces OpenAI's files byte for byte.
func TestWriteTiktokenReproducesFiles(t *testing.T) {
	for rel, name := range map[string]string{fixture.R50kRel: "gpt2", fixture.CL100kRel: "cl100k_base"} {
		orig := readFixture(t, "", rel)
		var buf bytes.Buffer
		require.NoError(t, encodings(t)[name].WriteTiktoken(&buf))
		assert.True(t, bytes.Equal(orig, buf.Bytes()), "%s differs from %s", name, rel)
	}
}

// allBytes is a minimal valid rank file: the 256 single bytes.
func allBytes() string {
	var sb strings.Builder
	for b := range 256 {
		sb.WriteString(b64([]byte{byte(b)}) + " " + itoa(b) + "\n")
	}
	return sb.String()
}

func TestReadTiktokenErrors(t *testing.T) {
	good := allBytes()
	_, err := tokenizer.ReadTiktoken(strings.NewReader(good), nil, tokenizer.GPT2Pattern)
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
		_, err := tokenizer.ReadTiktoken(strings.NewReader(file), nil, tokenizer.GPT2Pattern)
		assert.Error(t, err, name)
	}
	for name, special := range map[string]map[string]int{
		"collides": {"<|x|>": 3},
		"negative": {"<|x|>": -1},
		"empty":    {"": 300},
		"far":      {"<|x|>": 1 << 30},
	} {
		_, err := tokenizer.ReadTiktoken(strings.NewReader(good), special, tokenizer.GPT2Pattern)
		assert.Error(t, err, name)
	}
	_, err = tokenizer.ReadTiktoken(strings.NewReader(good), nil, `(?<=x)y`)
	assert.Error(t, err)
}
