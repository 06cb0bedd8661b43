package tokenizer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// The two files that Save writes are read by load, which returns an error, never panics, whatever
// they hold; what it accepts encodes and decodes text faithfully.
func FuzzLoad(f *testing.F) {
	var ranks bytes.Buffer
	for b := range 256 {
		fmt.Fprintf(&ranks, "%s %d\n", base64.StdEncoding.EncodeToString([]byte{byte(b)}), b)
	}
	cl100k, err := json.Marshal(CL100kPattern)
	require.NoError(f, err)
	f.Add(ranks.Bytes(), []byte(`{"pattern": "\\w+|.", "special_tokens": {"<s>": 256}}`))
	f.Add(ranks.Bytes(), []byte(`{"pattern": `+string(cl100k)+`}`))
	f.Add(ranks.Bytes(), []byte(`{"special_tokens": {"<s>": 256}}`))
	f.Fuzz(func(t *testing.T, rankFile, cfg []byte) {
		enc, err := load(bytes.NewReader(rankFile), bytes.NewReader(cfg))
		if err != nil {
			return
		}
		text := "fuzz <s> text \xff"
		back, err := enc.Decode(enc.Encode(text))
		require.NoError(t, err)
		require.Equal(t, text, back)
	})
}
