package tokenizer_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
)

type vector struct {
	Encoding       string   `json:"encoding"`
	Text           string   `json:"text"`
	IDs            []int    `json:"ids"`
	AllowedSpecial []string `json:"allowed_special"`
}

// TestVectors checks every line of the reference file, texts with the ids tiktoken gives them.
func TestVectors(t *testing.T) {
	data := readFixture(t, fixture.VectorsEnv, fixture.VectorsRel)
	encs := encodings(t)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	total, passed := 0, 0
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		total++
		var v vector
		require.NoError(t, json.Unmarshal(line, &v), "line %d", lineNo)
		enc, ok := encs[v.Encoding]
		if !assert.True(t, ok, "line %d: unknown encoding %q", lineNo, v.Encoding) {
			continue
		}
		if v.IDs == nil {
			v.IDs = []int{}
		}
		var got []int
		if v.AllowedSpecial != nil {
			var err error
			got, err = enc.EncodeSpecial(v.Text, v.AllowedSpecial)
			if !assert.NoError(t, err, "line %d", lineNo) {
				continue
			}
		} else {
			got = enc.Encode(v.Text)
		}
		okEnc := assert.Equal(t, v.IDs, got, "line %d: encode %s %q", lineNo, v.Encoding, clipText(v.Text))
		text, err := enc.Decode(v.IDs)
		okDec := assert.NoError(t, err, "line %d", lineNo) && assert.Equal(t, v.Text, text, "line %d: decode", lineNo)
		if v.AllowedSpecial == nil {
			okEnc = assert.Equal(t, len(v.IDs), enc.Count(v.Text), "line %d: count", lineNo) && okEnc
		}
		if okEnc && okDec {
			passed++
		}
	}
	require.NoError(t, sc.Err())
	require.Positive(t, total, "no vectors in the file")
	t.Logf("%d of %d vector lines passed", passed, total)
	assert.Equal(t, total, passed)
}

// TestShakespeareCounts checks whole-corpus token counts that tiktoken and js-tiktoken agree on.
func TestShakespeareCounts(t *testing.T) {
	text := string(readFixture(t, "", fixture.ShakespeareRel))
	encs := encodings(t)
	for name, want := range map[string]int{"gpt2": 338025, "cl100k_base": 301829} {
		ids := encs[name].Encode(text)
		assert.Len(t, ids, want, name)
		assert.Equal(t, want, encs[name].Count(text), name)
		back, err := encs[name].Decode(ids)
		require.NoError(t, err)
		assert.True(t, back == text, "%s: decode(encode(text)) != text", name)
	}
}

func clipText(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
