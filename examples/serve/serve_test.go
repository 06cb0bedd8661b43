package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/examples/internal/modeldir"
	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/hf"
)

// The server is tested with OpenAI's official Go client against a small model the test builds,
// and every answer is compared with what the library's own Generate gives for the same prompt:
// an independent, sequential path through the same model.

const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ:.,!?'\n"

type testServer struct {
	t      *testing.T
	m      *model.GPT
	tok    *tokenizer.Char
	lm     *modeldir.Model
	client openai.Client
	sched  func() *scheduler
	url    string
}

// startServer serves a random 2-layer GPT over a char vocabulary on a loopback port, until the
// test ends.
func startServer(t *testing.T, o *options) *testServer { return startServerWith(t, o, nil) }

func startServerWith(t *testing.T, o *options, wrap func(engine) engine) *testServer {
	t.Helper()
	tok := tokenizer.NewChar(alphabet)
	m, err := model.New(model.Config{VocabSize: tok.VocabSize(), BlockSize: 64, NLayer: 2, NHead: 2, NEmbd: 32}, 7)
	require.NoError(t, err)
	if o == nil {
		o = defaultOptions()
	}
	lm := &modeldir.Model{Name: "tiny", GPT: m, Text: modeldir.TokenText(tok), Template: modeldir.Plain{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var sched *scheduler
	var mu sync.Mutex
	h := &hooks{scheduler: func(s *scheduler) { mu.Lock(); sched = s; mu.Unlock() }, engine: wrap}
	go func() { done <- serveWith(ctx, ln, lm, o, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10 s")
		}
	})
	url := "http://" + ln.Addr().String() + "/v1/"
	client := openai.NewClient(option.WithBaseURL(url), option.WithAPIKey(o.apiKey), option.WithMaxRetries(0))
	return &testServer{t: t, m: m, tok: tok, lm: lm, client: client, url: url,
		sched: func() *scheduler { mu.Lock(); defer mu.Unlock(); return sched }}
}

func defaultOptions() *options {
	return &options{maxBatch: 16, queue: 64, drain: 2 * time.Second,
		limits: limits{maxBody: 1 << 16, maxPrompt: 48, maxNewTokens: 32, maxInputs: 8}}
}

// reference returns what the library's Generate makes of text, greedily, as text.
func (f *testServer) reference(text string, maxNew int) string {
	ids := f.tok.Encode(text)
	out, err := f.m.GenerateAll(context.Background(), ids, model.Sampling{MaxNew: maxNew})
	require.NoError(f.t, err)
	s, err := f.tok.Decode(out)
	require.NoError(f.t, err)
	return s
}

func (f *testServer) chatPrompt(user string) string {
	s, err := modeldir.Plain{}.Render([]hf.Message{{Role: "user", Content: user}}, true)
	require.NoError(f.t, err)
	return s
}

func chatParams(user string, maxTokens int) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:       "tiny",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage(user)},
		MaxTokens:   openai.Int(int64(maxTokens)),
		Temperature: openai.Float(0),
	}
}

func TestServeModelsAndChat(t *testing.T) {
	f := startServer(t, nil)
	ctx := context.Background()
	models, err := f.client.Models.List(ctx)
	require.NoError(t, err)
	require.Len(t, models.Data, 1)
	assert.Equal(t, "tiny", models.Data[0].ID)

	resp, err := f.client.Chat.Completions.New(ctx, chatParams("Hello there", 12))
	require.NoError(t, err)
	require.Len(t, resp.Choices, 1)
	want := f.reference(f.chatPrompt("Hello there"), 12)
	assert.Equal(t, want, resp.Choices[0].Message.Content)
	assert.Equal(t, "length", resp.Choices[0].FinishReason)
	assert.EqualValues(t, len(f.tok.Encode(f.chatPrompt("Hello there"))), resp.Usage.PromptTokens)
	assert.EqualValues(t, 12, resp.Usage.CompletionTokens)
	assert.Equal(t, resp.Usage.PromptTokens+resp.Usage.CompletionTokens, resp.Usage.TotalTokens)
}

func TestServeStreamedChatEqualsUnstreamed(t *testing.T) {
	f := startServer(t, nil)
	ctx := context.Background()
	p := chatParams("Stream me", 20)
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := f.client.Chat.Completions.NewStreaming(ctx, p)
	var text strings.Builder
	var finish string
	var chunks int
	var u openai.CompletionUsage
	for stream.Next() {
		c := stream.Current()
		chunks++
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
		if c.Usage.TotalTokens > 0 {
			u = c.Usage
		}
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, f.reference(f.chatPrompt("Stream me"), 20), text.String())
	assert.Equal(t, "length", finish)
	assert.Greater(t, chunks, 3, "the answer should arrive in pieces")
	assert.EqualValues(t, 20, u.CompletionTokens)
}

func TestServeStopString(t *testing.T) {
	f := startServer(t, nil)
	full := f.reference(f.chatPrompt("Stop early"), 30)
	require.GreaterOrEqual(t, len(full), 8)
	stop := full[4:6] // a string the greedy answer is known to contain
	want := full[:strings.Index(full, stop)]
	p := chatParams("Stop early", 30)
	p.Stop = openai.ChatCompletionNewParamsStopUnion{OfString: openai.String(stop)}
	resp, err := f.client.Chat.Completions.New(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Choices[0].Message.Content)
	assert.Equal(t, "stop", resp.Choices[0].FinishReason)

	stream := f.client.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, want, text.String(), "a streamed answer never shows part of a stop string")
}

func TestServeCompletionsAndEmbeddings(t *testing.T) {
	f := startServer(t, nil)
	ctx := context.Background()
	resp, err := f.client.Completions.New(ctx, openai.CompletionNewParams{
		Model:       "tiny",
		Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")},
		MaxTokens:   openai.Int(10),
		Temperature: openai.Float(0),
	})
	require.NoError(t, err)
	assert.Equal(t, f.reference("Once upon a time", 10), resp.Choices[0].Text)

	emb, err := f.client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "tiny",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello", "world wide"}},
	})
	require.NoError(t, err)
	require.Len(t, emb.Data, 2)
	for i, d := range emb.Data {
		assert.EqualValues(t, i, d.Index)
		require.Len(t, d.Embedding, 32)
		var ss float64
		for _, x := range d.Embedding {
			ss += x * x
		}
		assert.InDelta(t, 1, ss, 1e-4, "embeddings are normalised")
	}
	assert.NotEqual(t, emb.Data[0].Embedding, emb.Data[1].Embedding)
	assert.EqualValues(t, len("hello")+len("world wide"), emb.Usage.PromptTokens)
}

// apiStatus returns the HTTP status and OpenAI error type of err.
func apiStatus(t *testing.T, err error) (int, string, string) {
	t.Helper()
	var e *openai.Error
	require.True(t, errors.As(err, &e), "want an API error, got %v", err)
	return e.StatusCode, e.Type, e.Param
}

func TestServeRefusesBadRequests(t *testing.T) {
	o := defaultOptions()
	o.apiKey = "sekret"
	f := startServer(t, o)
	ctx := context.Background()
	cases := []struct {
		name   string
		params openai.ChatCompletionNewParams
		param  string
	}{
		{"max_tokens over the server's limit", chatParams("hi", 33), "max_tokens"},
		{"max_tokens negative", chatParams("hi", -1), "max_tokens"},
		{"prompt longer than the limit", chatParams(strings.Repeat("a", 60), 4), ""},
		{"n = 2", func() openai.ChatCompletionNewParams { p := chatParams("hi", 4); p.N = openai.Int(2); return p }(), "n"},
		{"temperature 3", func() openai.ChatCompletionNewParams {
			p := chatParams("hi", 4)
			p.Temperature = openai.Float(3)
			return p
		}(), "temperature"},
	}
	for _, c := range cases {
		_, err := f.client.Chat.Completions.New(ctx, c.params)
		status, typ, param := apiStatus(t, err)
		assert.Equal(t, http.StatusBadRequest, status, c.name)
		assert.Equal(t, "invalid_request_error", typ, c.name)
		if c.param != "" {
			assert.Equal(t, c.param, param, c.name)
		}
	}
	// a wrong key
	bad := openai.NewClient(option.WithBaseURL(f.url), option.WithAPIKey("wrong"), option.WithMaxRetries(0))
	_, err := bad.Chat.Completions.New(ctx, chatParams("hi", 4))
	status, _, _ := apiStatus(t, err)
	assert.Equal(t, http.StatusUnauthorized, status)
	// a body over the limit, and one that is not JSON
	for body, want := range map[string]int{`{"messages": "` + strings.Repeat("x", 1<<17) + `"}`: http.StatusBadRequest, `{not json`: http.StatusBadRequest} {
		req, err := http.NewRequest("POST", f.url+"chat/completions", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer sekret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
}

// streamChat streams one chat answer and returns its text.
func streamChat(client openai.Client, p openai.ChatCompletionNewParams) (string, error) {
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	return text.String(), stream.Err()
}

// 16 concurrent streaming clients, sampling with their own seeds, get what the same requests get
// one at a time, and share decode steps.
func TestServeDecodesConcurrentRequestsTogether(t *testing.T) {
	f := startServer(t, nil)
	const clients = 16
	params := func(i int) openai.ChatCompletionNewParams {
		p := chatParams(fmt.Sprintf("Request number %d", i), 24)
		p.Temperature, p.TopP, p.Seed = openai.Float(0.9), openai.Float(0.95), openai.Int(int64(100+i))
		return p
	}
	alone := make([]string, clients)
	for i := range clients {
		var err error
		alone[i], err = streamChat(f.client, params(i))
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	got := make([]string, clients)
	errs := make([]error, clients)
	for i := range clients {
		wg.Go(func() { got[i], errs[i] = streamChat(f.client, params(i)) })
	}
	wg.Wait()
	for i := range clients {
		require.NoError(t, errs[i])
		assert.Equal(t, alone[i], got[i], "request %d", i)
	}
	s := f.sched()
	s.mu.Lock()
	peak := s.peak
	s.mu.Unlock()
	assert.Greater(t, peak, 1, "concurrent requests should share decode steps")
}

// A bounded load: 200 requests from 32 clients against a batch of 8 and a queue of 8. Every
// answer is complete or a 429; nothing else fails, and nothing is left running afterwards.
func TestServeUnderLoadAnswersOr429(t *testing.T) {
	o := defaultOptions()
	o.maxBatch, o.queue = 8, 8
	f := startServer(t, o)
	const requests, clients = 200, 32
	var mu sync.Mutex
	var ok, busy int
	var failures []error
	next := make(chan int, requests)
	for i := range requests {
		next <- i
	}
	close(next)
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range next {
				if time.Now().After(deadline) {
					return
				}
				_, err := f.client.Chat.Completions.New(context.Background(), chatParams(fmt.Sprintf("load %d", i), 6))
				var e *openai.Error
				refused := errors.As(err, &e) && e.StatusCode == http.StatusTooManyRequests
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case refused:
					busy++
				default:
					failures = append(failures, err)
				}
				mu.Unlock()
				if refused {
					time.Sleep(10 * time.Millisecond) // a polite client backs off
				}
			}
		})
	}
	wg.Wait()
	assert.Empty(t, failures)
	assert.Equal(t, requests, ok+busy, "every request answered within the time bound")
	assert.GreaterOrEqual(t, ok, o.maxBatch+o.queue, "the server keeps answering under load")
	t.Logf("%d answered, %d refused with 429", ok, busy)
	require.Eventually(t, func() bool { r, q := f.sched().load(); return r == 0 && q == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestServeCancelledClientLeavesTheBatch(t *testing.T) {
	f := startServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	stream := f.client.Chat.Completions.NewStreaming(ctx, chatParams("cancel me", 32))
	require.True(t, stream.Next(), "the first chunk arrives")
	cancel()
	for stream.Next() {
	}
	require.Eventually(t, func() bool {
		running, queued := f.sched().load()
		return running == 0 && queued == 0
	}, 5*time.Second, 10*time.Millisecond, "a cancelled request must leave the batch")
}

// gatedEngine holds every decode step until the test lets it go, or for hold (0: until then).
type gatedEngine struct {
	engine
	gate chan struct{}
	hold time.Duration
}

func (g gatedEngine) step(seqs []sequence, tokens []int) ([][]float32, error) {
	var timeout <-chan time.Time
	if g.hold > 0 {
		timeout = time.After(g.hold)
	}
	select {
	case <-g.gate:
	case <-timeout:
	}
	return g.engine.step(seqs, tokens)
}

func TestServeFullQueueAnswers429(t *testing.T) {
	o := defaultOptions()
	o.maxBatch, o.queue = 1, 1
	gate := make(chan struct{})
	f := startServerWith(t, o, func(e engine) engine { return gatedEngine{e, gate, 0} })
	defer close(gate)
	ctx := context.Background()
	// one request decodes (held at its first step), one waits in the queue
	first := f.client.Chat.Completions.NewStreaming(ctx, chatParams("first", 4))
	require.True(t, first.Next())
	go func() { _, _ = f.client.Chat.Completions.New(ctx, chatParams("second", 4)) }()
	require.Eventually(t, func() bool { _, q := f.sched().load(); return q == 1 }, 5*time.Second, 5*time.Millisecond)
	// a third finds the queue full
	req, err := http.NewRequest("POST", f.url+"chat/completions", strings.NewReader(`{"model":"tiny","messages":[{"role":"user","content":"third"}],"max_tokens":4}`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
}

func TestServeDrainsOnShutdown(t *testing.T) {
	tok := tokenizer.NewChar(alphabet)
	m, err := model.New(model.Config{VocabSize: tok.VocabSize(), BlockSize: 64, NLayer: 2, NHead: 2, NEmbd: 32}, 7)
	require.NoError(t, err)
	lm := &modeldir.Model{Name: "tiny", GPT: m, Text: modeldir.TokenText(tok), Template: modeldir.Plain{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	o := defaultOptions()
	o.drain = 300 * time.Millisecond
	gate := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// each step takes a second: longer than the drain allows
		done <- serveWith(ctx, ln, lm, o, &hooks{engine: func(e engine) engine { return gatedEngine{e, gate, time.Second} }})
	}()
	client := openai.NewClient(option.WithBaseURL("http://"+ln.Addr().String()+"/v1/"), option.WithMaxRetries(0))
	stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams("held", 8))
	require.True(t, stream.Next())
	start := time.Now()
	cancel() // as SIGTERM does; the slow request cannot finish in the drain, so it is cancelled
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return within 5 s of shutdown")
	}
	close(gate)
	assert.Less(t, time.Since(start), 3*time.Second)
	for stream.Next() {
	}
	_, err = client.Models.List(context.Background())
	assert.Error(t, err, "the server no longer accepts requests")
}

// A Llama-family directory with a tokenizer.json and a chat template serves as a GPT-2 does:
// the conversation goes through its template, and the answer is what Generate gives for it,
// ending at the template's end-of-turn token.
func TestServeLlamaFamilyDirectory(t *testing.T) {
	src := fixture.Path(t, fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
	tok, err := hf.Load(filepath.Join(src, "qwen3"))
	require.NoError(t, err)
	cfg := model.Config{VocabSize: tok.VocabSize(), BlockSize: 64, NLayer: 1, NHead: 2, NKVHead: 1, NEmbd: 16, FFHidden: 32,
		NoBias: true, Positions: model.PositionsRotary, Norm: model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU, QKNorm: true}
	m, err := model.New(cfg, 5)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, model.SaveHF(m, dir))
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(src, "qwen3", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	lm, err := modeldir.Open(dir, model.Float32)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveWith(ctx, ln, lm, defaultOptions(), nil) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	client := openai.NewClient(option.WithBaseURL("http://"+ln.Addr().String()+"/v1/"), option.WithMaxRetries(0))

	resp, err := client.Chat.Completions.New(context.Background(), chatParams("Hello", 10))
	require.NoError(t, err)
	text, err := lm.Template.Render([]hf.Message{{Role: "user", Content: "Hello"}}, true)
	require.NoError(t, err)
	ids, err := lm.GPT.GenerateAll(context.Background(), lm.Text.Encode(text, false), model.Sampling{MaxNew: 10, Stop: lm.Stop})
	require.NoError(t, err)
	want, err := tok.DecodeWith(ids, true)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Choices[0].Message.Content)
	assert.EqualValues(t, len(ids), resp.Usage.CompletionTokens)
	wantFinish := "length"
	if len(ids) < 10 {
		wantFinish = "stop"
	}
	assert.Equal(t, wantFinish, resp.Choices[0].FinishReason)
}
