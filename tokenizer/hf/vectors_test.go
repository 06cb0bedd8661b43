package hf_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer/hf"
)

type hfVector struct {
	Text             string `json:"text"`
	AddSpecialTokens bool   `json:"add_special_tokens"`
	IDs              []int  `json:"ids"`
	Decoded          string `json:"decoded"`
}

type chatVector struct {
	Messages            []hf.Message `json:"messages"`
	AddGenerationPrompt bool         `json:"add_generation_prompt"`
	Text                string       `json:"text"`
}

// readLines decodes each non-empty line of a JSONL file into a new T.
func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var v T
		require.NoError(t, json.Unmarshal(line, &v), "%s line %d", path, lineNo)
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// tokenizerDirs returns every subdirectory of the fixture that holds a tokenizer.json.
func tokenizerDirs(t *testing.T) []string {
	root := fixture.Path(t, fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var dirs []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), "tokenizer.json")); e.IsDir() && err == nil {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	require.NotEmpty(t, dirs, "no tokenizer.json under %s", root)
	return dirs
}

// TestHFTokenizerVectors checks every vector of every tokenizer directory against Hugging Face's own
// tokenizers: the ids with and without special tokens, the decoded text, the stream-decoded text,
// and the rendered chat templates.
func TestHFTokenizerVectors(t *testing.T) {
	dirs := tokenizerDirs(t)
	toks, err := fixtureTokenizers()
	require.NoError(t, err)
	require.Len(t, toks, len(dirs))
	for k, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tok := toks[k].tok
			require.Equal(t, filepath.Base(dir), toks[k].name)
			vectors := readLines[hfVector](t, filepath.Join(dir, "vectors.jsonl"))
			require.NotEmpty(t, vectors)
			passed := 0
			for i, v := range vectors {
				if v.IDs == nil {
					v.IDs = []int{}
				}
				got := tok.EncodeWith(v.Text, v.AddSpecialTokens)
				if got == nil {
					got = []int{}
				}
				okEnc := assert.Equal(t, v.IDs, got, "vector %d: encode %q (special %v)", i, clip(v.Text), v.AddSpecialTokens)
				text, err := tok.DecodeWith(v.IDs, false)
				okDec := assert.NoError(t, err) && assert.Equal(t, v.Decoded, text, "vector %d: decode", i)
				d := tok.NewStreamDecoder(false)
				var sb strings.Builder
				for _, id := range v.IDs {
					s, err := d.Add(id)
					require.NoError(t, err)
					sb.WriteString(s)
				}
				sb.WriteString(d.Flush())
				okStream := assert.Equal(t, v.Decoded, sb.String(), "vector %d: stream decode", i)
				if okEnc && okDec && okStream {
					passed++
				}
			}
			t.Logf("%d of %d vectors passed", passed, len(vectors))

			chatPath := filepath.Join(dir, "chat_template_vectors.jsonl")
			if _, err := os.Stat(chatPath); err != nil {
				return
			}
			chat, err := tok.ChatTemplate()
			require.NoError(t, err, "chat_template_vectors.jsonl needs the chat template of tokenizer_config.json")
			for i, v := range readLines[chatVector](t, chatPath) {
				got, err := chat.Render(v.Messages, v.AddGenerationPrompt)
				if assert.NoError(t, err, "chat vector %d", i) {
					assert.Equal(t, v.Text, got, "chat vector %d", i)
				}
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
