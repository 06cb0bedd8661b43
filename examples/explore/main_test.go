package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer that run's goroutine may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMainServes runs the program as `go run ./examples/explore` would: it prints the URL of a
// free port on 127.0.0.1, serves the page there, and stops cleanly when told to.
func TestMainServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-out", t.TempDir()}, &out, &errs, ready) }()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v (%s)", err, errs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	assert.Contains(t, out.String(), "explore: open "+url)
	resp, err := http.Get(url + "?text=hello")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "goformer")
	// an open event stream does not keep the server from stopping
	stream, err := http.Get(url + "api/train/events")
	require.NoError(t, err)
	defer stream.Body.Close()
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
}

func TestMainFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"-ckpt", t.TempDir()}, "checkpoint.json"},
		{[]string{"-model", t.TempDir()}, "config.json"},
		{[]string{"-seq2seq", t.TempDir()}, "config.json"},
		{[]string{"-threads", "-1"}, "-threads"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-addr", "256.0.0.1:0"}, "256.0.0.1"},
	} {
		var out, errs bytes.Buffer
		err := run(context.Background(), c.args, &out, &errs, nil)
		require.Error(t, err, "%v", c.args)
		assert.Contains(t, err.Error(), c.says, "%v", c.args)
	}
}

// TestGPT2Model serves a Hugging Face GPT-2 directory (the tiny fixture, with GPT-2's real
// vocabulary) with GPT-2's tokenizer: BPE pieces with their leading spaces.
func TestGPT2Model(t *testing.T) {
	dir := fixture.Path(t, fixture.HFEnv, fixture.HFRel)
	_, ts := newTestServer(t, options{hf: dir})
	var r runResponse
	code, body := call(t, ts, "POST", "/api/run", map[string]any{"model": "gpt2", "text": "Hello world, naïve café"}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "gpt2", r.Tokenizer)
	require.GreaterOrEqual(t, len(r.Tokens), 4)
	// tiktoken: "Hello" 15496, " world" 995 (tokenizer_vectors in ../shared agree)
	assert.Equal(t, 15496, r.Tokens[0].ID)
	assert.Equal(t, "Hello", r.Tokens[0].Text)
	assert.Equal(t, 995, r.Tokens[1].ID)
	assert.Equal(t, " world", r.Tokens[1].Text)
	text := ""
	for _, tk := range r.Tokens {
		text += tk.Text
	}
	assert.Equal(t, "Hello world, naïve café", text, "the pieces spell the text")
	assert.Equal(t, 2, r.Attention[0].Layers)
	assert.Equal(t, 4, r.Attention[0].Heads)
	var e embeddingsResponse
	code, body = call(t, ts, "GET", "/api/embeddings?model=gpt2", nil, &e)
	require.Equal(t, http.StatusOK, code, body)
	assert.Len(t, e.IDs, maxEmbedPoints, "the first tokens of 50257")
	assert.Equal(t, 50257, e.Vocab)
	// the fixture's context is 32 tokens: a longer text shows its last 32
	long := strings.TrimSpace(strings.Repeat("one two ", 40))
	code, body = call(t, ts, "POST", "/api/run", map[string]any{"model": "gpt2", "text": long}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Len(t, r.Tokens, 32)
	assert.Equal(t, 80-32, r.Cropped)
}

func TestPieces(t *testing.T) {
	v, err := gpt2Vocab()
	require.NoError(t, err)
	// ../shared/testdata/tokenizer_vectors.jsonl (tiktoken): 日本 is 33768 98 17312 105, byte-level
	// pieces that cut each character's three UTF-8 bytes in two: the pieces show the stray bytes
	ids, _ := v.encode("日本")
	require.Equal(t, []int{33768, 98, 17312, 105}, ids)
	var pieces []string
	for _, id := range ids {
		pieces = append(pieces, v.piece(id))
	}
	assert.Equal(t, []string{`\xe6\x97`, `\xa5`, `\xe6\x9c`, `\xac`}, pieces)
	assert.Equal(t, "日本", v.decode(ids))
	assert.Equal(t, "\uFFFD", v.decode(ids[:1]), "a partial character decodes to U+FFFD")

	c := charVocab("ab\n")
	ids, skipped := c.encode("a\nxbyx")
	assert.Equal(t, []int{1, 0, 2}, ids)
	assert.Equal(t, []string{"x", "y"}, skipped)
	assert.Equal(t, "<7?>", c.piece(7))
}
