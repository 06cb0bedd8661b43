package hf_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer/hf"
)

var fuzzTexts = []string{
	"", "Hello, world!", "  leading and trailing  ", "a  \u0085b", "don't DON'T 'ſ", "12345 ٣٣٣ Ⅻ",
	"\xff\xfe invalid \xe2\x82", "<|endoftext|> <s> </s> <|im_start|>", "\r\n\r\n \t\n", "🙂🙃 漢字 ﷽",
	"e\u0301 Å ﬁ", strings.Repeat("a", 300), strings.Repeat(" ", 100) + "x", "<0x41> ▁▁x",
}

// FuzzRead feeds the loader mutations of a small tokenizer.json: it must return an error or a
// tokenizer, never panic, and what it returns must encode and decode without panicking.
func FuzzRead(f *testing.F) {
	seed, err := json.Marshal(tinyByteLevel())
	require.NoError(f, err)
	f.Add(seed)
	m := tinyByteLevel()
	m["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
		map[string]any{"type": "Split", "pattern": map[string]any{"String": " "}, "behavior": "MergedWithNext", "invert": false},
		map[string]any{"type": "Digits", "individual_digits": false},
		map[string]any{"type": "ByteLevel", "add_prefix_space": true, "use_regex": false}}}
	m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"type": "NFKC"},
		map[string]any{"type": "Prepend", "prepend": "▁"}, map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"}}}
	m["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{map[string]any{"type": "ByteFallback"},
		map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
		map[string]any{"type": "Fuse"}, map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 1}}}
	seed2, err := json.Marshal(m)
	require.NoError(f, err)
	f.Add(seed2)
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"<0x41>":3},"merges":[["a","b"]],"byte_fallback":true,"unk_token":"a"}}`))
	f.Add([]byte(`{"model":{"vocab":{"a":0},"merges":["a a"]},"added_tokens":[{"id":5,"content":"x","lstrip":true,"rstrip":true,"single_word":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := hf.Read(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, s := range fuzzTexts[:8] {
			for _, special := range []bool{false, true} {
				ids := tok.EncodeWith(s, special)
				for _, id := range ids {
					require.True(t, id >= 0 && id < tok.VocabSize(), "id %d", id)
				}
				_, err := tok.Decode(ids)
				require.NoError(t, err)
			}
		}
	})
}

// namedTokenizer is a tokenizer of the fixture directory with the name of its folder.
type namedTokenizer struct {
	name string
	tok  *hf.Tokenizer
}

// fixtureTokenizers loads every tokenizer of the fixture directory once (with Load, so that chat
// templates come too); none where the fixture is missing.
var fixtureTokenizers = sync.OnceValues(func() ([]namedTokenizer, error) {
	root, ok := fixture.Find(fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
	if !ok {
		return nil, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var toks []namedTokenizer
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
			continue
		}
		tok, err := hf.Load(dir)
		if err != nil {
			return nil, err
		}
		toks = append(toks, namedTokenizer{e.Name(), tok})
	}
	return toks, nil
})

// FuzzHFRoundTrip encodes any text with every fixture tokenizer and checks what holds for all of
// them: ids in range; the stream decoder gives Decode's text, in valid UTF-8 pieces; and decoding is
// a fixed point: text that came out of Decode, and contains no added token, encodes and decodes
// back to itself (the first round trip may normalize it, add a space marker or replace invalid bytes).
func FuzzHFRoundTrip(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	toks, err := fixtureTokenizers()
	require.NoError(f, err)
	if len(toks) == 0 {
		fixture.Path(f, fixture.HFTokenizersEnv, fixture.HFTokenizersRel) // skips, saying what is missing
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, nt := range toks {
			tok := nt.tok
			ids := tok.EncodeWith(s, false)
			once, err := tok.Decode(ids)
			require.NoError(t, err)
			d := tok.NewStreamDecoder(false)
			var sb strings.Builder
			for _, id := range ids {
				require.True(t, id >= 0 && id < tok.VocabSize())
				piece, err := d.Add(id)
				require.NoError(t, err)
				require.True(t, utf8.ValidString(piece))
				sb.WriteString(piece)
			}
			sb.WriteString(d.Flush())
			require.Equal(t, once, sb.String(), "stream %q", s)
			if hasAdded(tok, once) {
				continue
			}
			twice, err := tok.Decode(tok.EncodeWith(once, false))
			require.NoError(t, err)
			require.Equal(t, once, twice, "round trip of %q", s)
		}
	})
}

// hasAdded reports whether text holds an added token, which encoding would cut out of it.
func hasAdded(tok *hf.Tokenizer, text string) bool {
	for s := range tok.AddedTokens() {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}
