package modeldir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/hf"
)

// saveTiny writes a small GPT-2-layout model with vocab tokens to a new directory.
func saveTiny(t *testing.T, vocab int) string {
	t.Helper()
	m, err := model.New(model.Config{VocabSize: vocab, BlockSize: 16, NLayer: 1, NHead: 2, NEmbd: 8}, 1)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, model.SaveHF(m, dir))
	return dir
}

func TestOpenGPT2DirectoryWithoutTokenizer(t *testing.T) {
	dir := saveTiny(t, 50257)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id": [50256, 7]}`), 0o644))
	m, err := Open(dir, model.Float32)
	require.NoError(t, err)
	assert.Equal(t, filepath.Base(dir), m.Name)
	assert.Equal(t, 50257, m.Text.VocabSize())
	assert.ElementsMatch(t, []int{50256, 7}, m.Stop)
	assert.Equal(t, []int{15496, 995}, m.Text.Encode("Hello world", true), "GPT-2's own ids (tiktoken's r50k/gpt2)")
	s, err := m.Template.Render([]hf.Message{{Role: "user", Content: "hi"}}, true)
	require.NoError(t, err)
	assert.Equal(t, "user: hi\nassistant:", s)

	small := saveTiny(t, 100)
	_, err = Open(small, model.Float32)
	assert.ErrorContains(t, err, "more than the model's 100")
	ids, err := OpenIDs(small, model.Float32)
	require.NoError(t, err, "a program that works in ids opens it")
	assert.Nil(t, ids.Text)
	assert.Empty(t, ids.Stop)
}

func TestOpenDirectoryWithTokenizerJSON(t *testing.T) {
	src := fixture.Path(t, "GOFORMER_HF_TOKENIZERS", "testdata/hf-tokenizers")
	tok, err := hf.Load(filepath.Join(src, "qwen3"))
	require.NoError(t, err)
	dir := saveTiny(t, tok.VocabSize())
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(src, "qwen3", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	m, err := Open(dir, model.Int8)
	require.NoError(t, err)
	assert.Equal(t, model.Int8, m.GPT.WeightFormat())
	imEnd, ok := tok.TokenID("<|im_end|>")
	require.True(t, ok)
	assert.Contains(t, m.Stop, imEnd, "tokenizer_config.json's eos_token ends a turn")
	s, err := m.Template.Render([]hf.Message{{Role: "user", Content: "hi"}}, true)
	require.NoError(t, err)
	assert.Contains(t, s, "<|im_start|>user\nhi<|im_end|>")
	ids := m.Text.Encode(s, false)
	st := m.Text.Stream()
	var text string
	for _, id := range ids {
		p, err := st.Add(id)
		require.NoError(t, err)
		text += p
	}
	text += st.Flush()
	assert.Equal(t, "user\nhi\nassistant\n", text, "the stream leaves special tokens out")
}
