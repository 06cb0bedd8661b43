package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// llamaDir writes a tiny Llama-configured model (9 query heads in 3 groups sharing 3 KV
// heads, as SmolLM2-135M's) with model.SaveHF, beside Qwen3's tokenizer.json from the fixtures
// (the model's vocabulary is the tokenizer's size).
func llamaDir(t testing.TB) string {
	t.Helper()
	tokDir := fixture.Path(t, fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
	tok, err := os.ReadFile(filepath.Join(tokDir, "qwen3", "tokenizer.json"))
	require.NoError(t, err)
	voc, err := hfVocab(filepath.Join(tokDir, "qwen3"))
	require.NoError(t, err)
	m, err := model.New(model.Config{
		VocabSize: voc.size(), BlockSize: 32, NLayer: 2, NHead: 9, NKVHead: 3, NEmbd: 18, HeadDim: 2,
		NoBias: true, Norm: model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU, FFHidden: 24,
		Positions: model.PositionsRotary,
	}, 7)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, model.SaveHF(m, dir))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o644))
	return dir
}

// TestLlamaModel serves a Llama-family directory with its own tokenizer.json: the tokens are
// the ones Hugging Face's tokenizers library gives (../shared/testdata/hf-tokenizers/qwen3's
// vectors: "Hello, world!" is 9707 11 1879 0), the attention maps say which KV head each query
// head reads, and the Inside view writes out its layer with the KV head each query head reads.
func TestLlamaModel(t *testing.T) {
	_, ts := newTestServer(t, options{hf: llamaDir(t)})
	var models struct{ Models []modelInfo }
	code, body := call(t, ts, "GET", "/api/models", nil, &models)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "llama", models.Models[0].Name)
	assert.Equal(t, "llama", models.Models[0].Family)
	assert.Equal(t, 3, models.Models[0].KVHeads)

	var r runResponse
	code, body = call(t, ts, "POST", "/api/run", map[string]any{"model": "llama", "text": "Hello, world!"}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "hf", r.Tokenizer)
	var ids []int
	var text string
	for _, tk := range r.Tokens {
		ids = append(ids, tk.ID)
		text += tk.Text
	}
	assert.Equal(t, []int{9707, 11, 1879, 0}, ids)
	assert.Equal(t, "Hello, world!", text, "the pieces spell the text")
	require.Len(t, r.Attention, 1)
	a := r.Attention[0]
	assert.Equal(t, 2, a.Layers)
	assert.Equal(t, 9, a.Heads)
	assert.Equal(t, []int{0, 0, 0, 1, 1, 1, 2, 2, 2}, a.KVHead, "query heads 1-3 read KV head 1, 4-6 KV head 2, 7-9 KV head 3")
	require.Len(t, r.Next.Top, barsShown)
	sum := r.Next.Rest
	for _, c := range r.Next.Top {
		sum += c.P
	}
	assert.InDelta(t, 1, sum, 1e-4)

	var in insideResponse
	code, body = call(t, ts, "POST", "/api/inside", map[string]any{"model": "llama", "ids": ids, "layer": 1, "pos": 2}, &in)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "swiglu", in.FeedForward)
	assert.Equal(t, []int{0, 0, 0, 1, 1, 1, 2, 2, 2}, in.KVHead)
	require.Len(t, in.Q, 9)
	assert.Len(t, in.K, 9, "each query head's key: its KV head's")
	assert.Equal(t, in.K[3], in.K[5], "heads 4 and 6 share KV head 2")
	assert.Len(t, in.Q[0], 2)
	assert.Len(t, in.Weights[8], 3)
	assert.Len(t, in.MLP, 24)

	var g generateResponse
	code, body = call(t, ts, "POST", "/api/generate", map[string]any{"model": "llama", "ids": ids, "seed": 1}, &g)
	require.Equal(t, http.StatusOK, code, body)
	assert.Len(t, g.IDs, 5)
	var e embeddingsResponse
	code, body = call(t, ts, "GET", "/api/embeddings?model=llama", nil, &e)
	require.Equal(t, http.StatusOK, code, body)
	assert.Len(t, e.IDs, maxEmbedPoints)
}

// TestLlamaWithoutTokenizer serves ../shared/testdata/hf-llama-tiny, which has no
// tokenizer.json: the Run view takes token ids typed as numbers, shows each token as its id,
// and reports the words that are not ids.
func TestLlamaWithoutTokenizer(t *testing.T) {
	var dir string
	for _, d := range fixture.LlamaDirs(t) {
		if _, err := os.Stat(filepath.Join(d, "tokenizer.json")); err != nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Skip("no Llama-family fixture without a tokenizer.json")
	}
	_, ts := newTestServer(t, options{hf: dir})
	var r runResponse
	code, body := call(t, ts, "POST", "/api/run", map[string]any{"model": "llama", "text": "1 5, #9 x 100000"}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "ids", r.Tokenizer)
	assert.Contains(t, r.Note, "no tokenizer.json")
	require.Len(t, r.Tokens, 3)
	assert.Equal(t, []int{1, 5, 9}, []int{r.Tokens[0].ID, r.Tokens[1].ID, r.Tokens[2].ID})
	assert.Equal(t, "#5 ", r.Tokens[1].Text)
	assert.Equal(t, []string{"x", "100000"}, r.Skipped)
	code, body = call(t, ts, "POST", "/api/run", map[string]any{"model": "llama", "text": "hello"}, &r)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.True(t, strings.Contains(body, "no tokens"), body)
}
