package tokenizer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer"
)

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

// Load reports a missing or malformed file as an error.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, ranks, cfg string) string {
		prefix := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(prefix+".tiktoken", []byte(ranks), 0o644))
		require.NoError(t, os.WriteFile(prefix+".json", []byte(cfg), 0o644))
		return prefix
	}
	good := allBytes()
	enc, err := tokenizer.Load(write("good", good, `{"pattern": "\\w+", "special_tokens": {"<s>": 256}}`))
	require.NoError(t, err)
	ids, err := enc.EncodeSpecial("a<s>", []string{"<s>"})
	require.NoError(t, err)
	assert.Equal(t, []int{'a', 256}, ids) // allBytes gives byte b the id b
	for i, cfg := range []string{``, `{`, `{"pattern": 3}`, `{"pattern": "(", "special_tokens": {}}`, `{"unknown": 1}`} {
		_, err := tokenizer.Load(write(fmt.Sprint("bad", i), good, cfg))
		assert.Error(t, err, cfg)
	}
	_, err = tokenizer.Load(write("nopattern", good, `{"special_tokens": {"<s>": 256}}`))
	assert.ErrorContains(t, err, "pattern")
	_, err = tokenizer.Load(write("badranks", "IQ==\n", `{"pattern": "\\w+"}`))
	assert.Error(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "good.json")))
	_, err = tokenizer.Load(filepath.Join(dir, "good"))
	assert.Error(t, err, "no .json beside the rank file")
}
