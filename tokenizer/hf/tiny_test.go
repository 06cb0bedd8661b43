package hf_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer/hf"
)

// tinyByteLevel returns a tokenizer.json with GPT-2's byte-level alphabet as its first 256 tokens
// (ids in byte order) and five merges, so that expected encodings can be worked out by hand.
func tinyByteLevel() map[string]any {
	vocab := map[string]int{}
	for b := range 256 {
		vocab[byteLevelChar(byte(b))] = b
	}
	merges := []string{"h e", "l l", "he ll", "hell o", "Ġ w"}
	for i, m := range merges {
		vocab[strings.ReplaceAll(m, " ", "")] = 256 + i
	}
	return map[string]any{
		"version":    "1.0",
		"truncation": nil,
		"padding":    nil,
		"added_tokens": []any{
			map[string]any{"id": 261, "content": "<|end|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
		},
		"normalizer":     nil,
		"pre_tokenizer":  map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"post_processor": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": merges},
	}
}

// byteLevelChar is GPT-2's character for byte b, written out from its definition.
func byteLevelChar(b byte) string {
	if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
		return string(rune(b))
	}
	n := 0
	for c := 0; c < int(b); c++ {
		if !(c >= '!' && c <= '~' || c >= 0xA1 && c <= 0xAC || c >= 0xAE) {
			n++
		}
	}
	return string(rune(256 + n))
}

func readJSON(t testing.TB, v any) (*hf.Tokenizer, error) {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return hf.Read(strings.NewReader(string(data)))
}
