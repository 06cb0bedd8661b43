package hf_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/hf"
)

// TestTinyByteLevel checks merges worked out by hand: "hello" goes h+e, l+l, he+ll, hell+o; " world"
// starts with Ġ+w; the rest stays bytes.
func TestTinyByteLevel(t *testing.T) {
	tok, err := readJSON(t, tinyByteLevel())
	require.NoError(t, err)
	o, r, l, d := int('o'), int('r'), int('l'), int('d')
	assert.Equal(t, []int{259, 260, o, r, l, d}, tok.Encode("hello world"))
	assert.Equal(t, []int{259, 261, 256, l}, tok.Encode("hello<|end|>hel"), "the added token is cut out before the model runs")
	assert.Equal(t, 262, tok.VocabSize())
	text, err := tok.Decode([]int{259, 260, o, r, l, d, 261})
	require.NoError(t, err)
	assert.Equal(t, "hello world<|end|>", text)
	text, err = tok.DecodeWith([]int{259, 261}, true)
	require.NoError(t, err)
	assert.Equal(t, "hello", text)
	_, err = tok.Decode([]int{262})
	assert.ErrorIs(t, err, tokenizer.ErrUnknownToken)
	_, err = tok.Decode([]int{-1})
	assert.ErrorIs(t, err, tokenizer.ErrUnknownToken)
	assert.True(t, tok.IsSpecial(261))
	assert.False(t, tok.IsSpecial(259))
	id, ok := tok.TokenID("<|end|>")
	assert.True(t, ok)
	assert.Equal(t, 261, id)
	s, ok := tok.Token(260)
	assert.True(t, ok)
	assert.Equal(t, "Ġw", s)
}

// TestStreamNeverSplitsACharacter feeds ids one by one: each piece must be valid UTF-8 and the
// pieces must add up to Decode's text, for text whose characters span several byte tokens.
func TestStreamNeverSplitsACharacter(t *testing.T) {
	tok, err := readJSON(t, tinyByteLevel())
	require.NoError(t, err)
	text := "hello 🙂 漢字 wörld ﷽"
	ids := tok.Encode(text)
	for _, d := range []interface {
		Add(int) (string, error)
		Flush() string
	}{tok.NewStreamDecoder(false), tokenizer.NewStreamDecoder(tok)} {
		var sb strings.Builder
		for _, id := range ids {
			piece, err := d.Add(id)
			require.NoError(t, err)
			assert.True(t, utf8.ValidString(piece), "piece %q", piece)
			sb.WriteString(piece)
		}
		sb.WriteString(d.Flush())
		assert.Equal(t, text, sb.String())
	}
	// A stream cut inside a character gives what it has as U+FFFD, as Decode does.
	d := tok.NewStreamDecoder(false)
	emoji := tok.Encode("🙂")
	require.Len(t, emoji, 4)
	for _, id := range emoji[:2] {
		piece, err := d.Add(id)
		require.NoError(t, err)
		assert.Empty(t, piece)
	}
	want, err := tok.Decode(emoji[:2])
	require.NoError(t, err)
	assert.Equal(t, "\uFFFD", want)
	assert.Equal(t, want, d.Flush())
}

// TestUnsupportedIsAnError checks that what the loader does not implement fails at load, naming it.
func TestUnsupportedIsAnError(t *testing.T) {
	cases := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"model", func(m map[string]any) { m["model"].(map[string]any)["type"] = "Unigram" }, `model "Unigram"`},
		{"dropout", func(m map[string]any) { m["model"].(map[string]any)["dropout"] = 0.1 }, "dropout"},
		{"prefix", func(m map[string]any) { m["model"].(map[string]any)["continuing_subword_prefix"] = "##" }, "continuing_subword_prefix"},
		{"normalizer", func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Precompiled"} }, `normalizer "Precompiled"`},
		{"nested normalizer", func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"type": "NFC"}, map[string]any{"type": "BertNormalizer"}}}
		}, `normalizer "BertNormalizer"`},
		{"replace regex", func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": " {2,}"}, "content": " "}
		}, "regex"},
		{"pre-tokenizer", func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "BertPreTokenizer"} }, `pre_tokenizer "BertPreTokenizer"`},
		{"split regex", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `\d+`}, "behavior": "Isolated", "invert": false}
		}, `Split regex "\\d+"`},
		{"split behavior", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"String": " "}, "behavior": "Sideways", "invert": false}
		}, `"Sideways"`},
		{"after byte level", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{m["pre_tokenizer"], map[string]any{"type": "Digits", "individual_digits": true}}}
		}, `"Digits" after ByteLevel`},
		{"post-processor", func(m map[string]any) { m["post_processor"] = map[string]any{"type": "Mystery"} }, `post_processor "Mystery"`},
		{"decoder", func(m map[string]any) { m["decoder"] = map[string]any{"type": "WordPiece"} }, `decoder "WordPiece"`},
		{"truncation", func(m map[string]any) { m["truncation"] = map[string]any{"max_length": 512} }, "truncation"},
		{"padding", func(m map[string]any) { m["padding"] = map[string]any{"strategy": "BatchLongest"} }, "padding"},
		{"merge outside vocabulary", func(m map[string]any) {
			md := m["model"].(map[string]any)
			md["merges"] = append(md["merges"].([]string), "x yz")
		}, "not in the vocabulary"},
		{"huge id", func(m map[string]any) { m["model"].(map[string]any)["vocab"].(map[string]int)["far"] = 1 << 40 }, "outside"},
		{"unk", func(m map[string]any) { m["model"].(map[string]any)["unk_token"] = "<nope>" }, "unk_token"},
	}
	for _, c := range cases {
		m := tinyByteLevel()
		c.edit(m)
		_, err := readJSON(t, m)
		if assert.Error(t, err, c.name) {
			assert.Contains(t, err.Error(), c.want, c.name)
		}
	}
	_, err := hf.Read(strings.NewReader(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [`))
	assert.Error(t, err)
	_, err = hf.Read(strings.NewReader(`[]`))
	assert.Error(t, err)
}

// TestConcurrentEncode encodes long and short texts from several goroutines at once (the working
// memory of long merges is shared through a pool): each result must equal the one-at-a-time result.
func TestConcurrentEncode(t *testing.T) {
	tok, err := readJSON(t, tinyByteLevel())
	require.NoError(t, err)
	texts := []string{strings.Repeat("hello ", 3000), strings.Repeat("l", 20000), "hello world", strings.Repeat("hel", 5000)}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s)
	}
	done := make(chan [2]int, 8*len(texts))
	for g := range 8 {
		go func() {
			for k := range texts {
				i := (g + k) % len(texts)
				if assert.Equal(t, want[i], tok.Encode(texts[i])) {
					done <- [2]int{g, i}
				} else {
					done <- [2]int{-1, i}
				}
			}
		}()
	}
	for range 8 * len(texts) {
		r := <-done
		assert.GreaterOrEqual(t, r[0], 0, "text %d", r[1])
	}
}

// TestChatTemplateVariables renders a small template of the shape chat templates have, with
// trim_blocks and lstrip_blocks as transformers sets them, a loop, raise_exception and an extra
// variable; the expected texts are what Jinja's rules give for it, worked out by hand.
func TestChatTemplateVariables(t *testing.T) {
	src := "{{ bos_token }}\n{% for m in messages %}\n    {% if m.role == 'bad' %}{{ raise_exception('bad role') }}{% endif %}\n" +
		"[{{ m.role }}] {{ m.content }}{{ eos_token }}\n{% endfor %}\n" +
		"{% if add_generation_prompt %}[assistant]{% if not (thinking is defined and thinking is false) %} <think>{% endif %}{% endif %}"
	tmpl, err := hf.NewChatTemplate(src, "<s>", "</s>")
	require.NoError(t, err)
	msgs := []hf.Message{{Role: "user", Content: "Hi!"}, {Role: "assistant", Content: "Hello."}}
	got, err := tmpl.Render(msgs, true)
	require.NoError(t, err)
	assert.Equal(t, "<s>\n[user] Hi!</s>\n[assistant] Hello.</s>\n[assistant] <think>", got) // the newline after {{ }} stays
	got, err = tmpl.RenderWith(msgs[:1], true, map[string]any{"thinking": false})
	require.NoError(t, err)
	assert.Equal(t, "<s>\n[user] Hi!</s>\n[assistant]", got)
	_, err = tmpl.Render([]hf.Message{{Role: "bad", Content: "x"}}, false)
	assert.ErrorContains(t, err, "bad role")
}

// TestLoadChatTemplates checks Load on directories with no tokenizer_config.json, a list of named
// templates (transformers takes "default"), and a template that does not compile, which leaves the
// tokenizer usable and says why there is no template.
func TestLoadChatTemplates(t *testing.T) {
	data, err := json.Marshal(tinyByteLevel())
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644))

	tok, err := hf.Load(dir)
	require.NoError(t, err)
	_, err = tok.ChatTemplate()
	assert.ErrorIs(t, err, hf.ErrNoChatTemplate)

	cfg := `{"bos_token": {"content": "<|end|>"}, "eos_token": "<|end|>", "chat_template": [
		{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "{{ bos_token }}{{ messages[0].content }}"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644))
	tok, err = hf.Load(filepath.Join(dir, "tokenizer.json"))
	require.NoError(t, err)
	chat, err := tok.ChatTemplate()
	require.NoError(t, err)
	got, err := chat.Render([]hf.Message{{Role: "user", Content: "hello"}}, false)
	require.NoError(t, err)
	assert.Equal(t, "<|end|>hello", got)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"chat_template": "{% for %}"}`), 0o644))
	tok, err = hf.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, []int{259}, tok.Encode("hello"))
	_, err = tok.ChatTemplate()
	assert.Error(t, err)
	assert.NotErrorIs(t, err, hf.ErrNoChatTemplate)
}
