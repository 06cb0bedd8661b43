package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tokenizer/hf"
)

// llamaDir writes a tiny Llama-family model (random weights, Qwen3's 151k-token vocabulary) with
// Qwen3's tokenizer.json and tokenizer_config.json, as a Hub directory holds them.
func llamaDir(t *testing.T) (string, *hf.Tokenizer) {
	t.Helper()
	src := filepath.Join(fixture.Path(t, "GOFORMER_HF_TOKENIZERS", "testdata/hf-tokenizers"), "qwen3")
	tok, err := hf.Load(src)
	require.NoError(t, err)
	m, err := model.New(model.Config{VocabSize: tok.VocabSize(), BlockSize: 32, NLayer: 1, NHead: 2, NKVHead: 1, NEmbd: 8,
		NoBias: true, Norm: model.NormRMSNorm, Positions: model.PositionsRotary, FeedForward: model.FeedForwardSwiGLU}, 7)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, model.SaveHF(m, dir))
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir, tok
}

// A Llama-family directory generates with its own tokenizer: the prompt is encoded as Qwen3's
// tokenizer encodes it (not as GPT-2's), the greedy tokens are the model's, and the text printed
// is the tokenizer's decoding of them; generation stops at the eos id of generation_config.json.
func TestLlamaDirectoryUsesItsTokenizer(t *testing.T) {
	dir, tok := llamaDir(t)
	const prompt = "Hello, wörld"
	ids := tok.EncodeWith(prompt, true)
	m, err := model.LoadHF(dir)
	require.NoError(t, err)
	// sampled at temperature 1 from all tokens (a random model's greedy choice repeats itself)
	want, err := m.GenerateAll(context.Background(), ids, model.Sampling{MaxNew: 6, Temperature: 1, Seed: 3})
	require.NoError(t, err)
	require.Len(t, want, 6)
	text, err := tok.DecodeWith(append(slices.Clone(ids), want...), true)
	require.NoError(t, err)

	args := []string{"-model", dir, "-prompt", prompt, "-n", "6", "-temperature", "1", "-top-k", "0", "-seed", "3"}
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), append(args, "-no-stop"), &out, &errOut), errOut.String())
	assert.Equal(t, text+"\n", out.String())
	assert.True(t, strings.HasPrefix(out.String(), prompt), out.String())

	// the model's eos ends generation before it is printed
	stop := 1
	for stop < len(want) && slices.Contains(want[:stop], want[stop]) {
		stop++
	}
	require.Less(t, stop, len(want), "sampled tokens %v: none appears first after the start", want)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "generation_config.json"),
		[]byte(fmt.Sprintf(`{"eos_token_id": [%d]}`, want[stop])), 0o644))
	short, err := tok.DecodeWith(append(slices.Clone(ids), want[:stop]...), true)
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, run(context.Background(), args, &out, &errOut), errOut.String())
	assert.Equal(t, short+"\n", out.String())
}

// The Llama fixture has no tokenizer: its prompt goes in as ids, the ids come out, and they are
// transformers' greedy tokens.
func TestLlamaFixtureGreedyIDs(t *testing.T) {
	for _, dir := range fixture.LlamaDirs(t) {
		ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
		require.NoError(t, err)
		prompt, _, err := ref.Int64("greedy.prompt")
		require.NoError(t, err)
		want, _, err := ref.Int64("greedy.output")
		require.NoError(t, err)
		ref.Close()
		join := func(ids []int64) string {
			var s []string
			for _, id := range ids {
				s = append(s, strconv.FormatInt(id, 10))
			}
			return strings.Join(s, ",")
		}
		var out, errOut bytes.Buffer
		err = run(context.Background(), []string{"-model", dir, "-ids", join(prompt),
			"-n", strconv.Itoa(len(want) - len(prompt)), "-temperature", "0", "-no-stop"}, &out, &errOut)
		require.NoError(t, err, errOut.String())
		assert.Equal(t, join(want)+"\n", out.String(), dir)

		err = run(context.Background(), []string{"-model", dir, "-prompt", "hi"}, &out, &errOut)
		assert.ErrorContains(t, err, "-ids", dir)
	}
}
