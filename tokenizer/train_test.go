package tokenizer_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer"
)

// minbpe's test: "aaabdaaabac" with three merges encodes as [258 100 258 97 99] (the Wikipedia
// example of byte-pair encoding: aa, ab, then aa+ab).
func TestTrainWikipediaExample(t *testing.T) {
	text := "aaabdaaabac"
	enc, err := tokenizer.Train(context.Background(), text, tokenizer.TrainConfig{VocabSize: 256 + 3})
	require.NoError(t, err)
	ids := enc.Encode(text)
	assert.Equal(t, []int{258, 100, 258, 97, 99}, ids)
	back, err := enc.Decode(ids)
	require.NoError(t, err)
	assert.Equal(t, text, back)
}

func TestTrainSpecialsAndSaveLoad(t *testing.T) {
	text := string(readFixture(t, "", fixture.ShakespeareRel))[:20000]
	text = strings.ReplaceAll(text, "\n\n", "\n<|endoftext|>")
	cfg := tokenizer.TrainConfig{VocabSize: 300, Special: []string{"<|endoftext|>", "<|pad|>"}}
	enc, err := tokenizer.Train(context.Background(), text, cfg)
	require.NoError(t, err)
	assert.Equal(t, 300, enc.VocabSize())
	assert.Equal(t, map[string]int{"<|endoftext|>": 298, "<|pad|>": 299}, enc.Special())
	for id := 256; id < 298; id++ {
		b, err := enc.TokenBytes(id)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "|", "the special's text must not be learned from")
	}
	ids, err := enc.EncodeSpecial(text, []string{"<|endoftext|>"})
	require.NoError(t, err)
	assert.Contains(t, ids, 298)
	assert.Less(t, len(ids), len(text)*8/10, "42 merges should save a fifth of the tokens")

	prefix := filepath.Join(t.TempDir(), "tok")
	require.NoError(t, enc.Save(prefix))
	back, err := tokenizer.Load(prefix)
	require.NoError(t, err)
	assert.Equal(t, enc.Ranks(), back.Ranks())
	assert.Equal(t, enc.Special(), back.Special())
	got, err := back.EncodeSpecial(text, []string{"<|endoftext|>"})
	require.NoError(t, err)
	assert.Equal(t, ids, got)
}

func TestTrainErrors(t *testing.T) {
	ctx := context.Background()
	_, err := tokenizer.Train(ctx, "abc", tokenizer.TrainConfig{VocabSize: 255})
	assert.Error(t, err)
	_, err = tokenizer.Train(ctx, "abc", tokenizer.TrainConfig{VocabSize: 1000})
	assert.ErrorContains(t, err, "only 2 merged tokens")
	_, err = tokenizer.Train(ctx, "abc", tokenizer.TrainConfig{VocabSize: 300, Special: []string{"x", "x"}})
	assert.Error(t, err)
	_, err = tokenizer.Train(ctx, "abc", tokenizer.TrainConfig{VocabSize: 300, Pattern: `\s+(?!\S)`})
	assert.Error(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	text := string(readFixture(t, "", fixture.ShakespeareRel))[:100000]
	_, err = tokenizer.Train(cancelled, text, tokenizer.TrainConfig{VocabSize: 1000})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTrainShakespeare(t *testing.T) {
	text := string(readFixture(t, "", fixture.ShakespeareRel))
	start := time.Now()
	enc, err := tokenizer.Train(context.Background(), text, tokenizer.TrainConfig{VocabSize: 1024})
	require.NoError(t, err)
	t.Logf("vocab 1024 on tinyshakespeare: %v", time.Since(start))
	ids := enc.Encode(text)
	back, err := enc.Decode(ids)
	require.NoError(t, err)
	assert.True(t, back == text)
	// A byte-level BPE with ~800 merges packs English into well under half as many tokens as bytes.
	assert.Less(t, len(ids), len(text)*4/10)
	t.Logf("%d bytes -> %d tokens", len(text), len(ids))
}
