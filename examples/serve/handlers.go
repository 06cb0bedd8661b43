package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/goformer/goformer/examples/internal/modeldir"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/hf"
)

// server answers OpenAI's HTTP API with one model.
type server struct {
	modelID  string
	created  int64
	sched    *scheduler
	text     modeldir.Text
	template modeldir.Template
	stopIDs  []int // the model's end-of-turn tokens
	// embed returns the normalised mean of the final hidden states of ids; nil: no embeddings.
	embed func(ids []int) ([]float32, error)
	limits
	apiKey string
	ids    atomic.Uint64 // for response ids
}

// limits bound what one request may ask.
type limits struct {
	maxBody      int64 // bytes of a request body
	maxPrompt    int   // prompt tokens
	maxNewTokens int   // max_tokens
	maxInputs    int   // embedding inputs per request
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("POST /v1/completions", s.completions)
	mux.HandleFunc("POST /v1/embeddings", s.embeddings)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	})
	return s.guard(mux)
}

// guard checks the API key and recovers from any panic in a handler, so that no request can
// take the server down.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				writeError(w, &apiError{Status: http.StatusInternalServerError, Type: "server_error",
					Message: fmt.Sprint("internal error: ", p)})
			}
		}()
		if s.apiKey != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.apiKey)) != 1 {
				writeError(w, &apiError{Status: http.StatusUnauthorized, Type: "invalid_request_error",
					Code: strPtr("invalid_api_key"), Message: "missing or wrong API key (Authorization: Bearer KEY)"})
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		next.ServeHTTP(w, r)
	})
}

func (s *server) models(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelInfo{
		{ID: s.modelID, Object: "model", Created: s.created, OwnedBy: "goformer"}}})
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) *apiError {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: strPtr("request_too_large"),
				Message: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
		}
		return badRequest("", "request body is not valid JSON: %v", err)
	}
	return nil
}

// generation is what a chat or completion request asks for, checked.
type generation struct {
	prompt   []int
	maxNew   int
	sampling model.Sampling
	stops    []string
	stream   bool
	usage    bool // stream_options.include_usage
}

// plan checks f against the prompt and the server's limits.
func (s *server) plan(f samplingFields, prompt []int) (*generation, *apiError) {
	g := &generation{prompt: prompt, stops: f.Stop, stream: f.Stream}
	if f.StreamOptions != nil {
		g.usage = f.StreamOptions.IncludeUsage
	}
	ctxLen := s.sched.eng.contextLen()
	switch {
	case len(prompt) == 0:
		return nil, badRequest("messages", "the prompt is empty")
	case len(prompt) > s.maxPrompt || len(prompt) >= ctxLen:
		return nil, &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: strPtr("context_length_exceeded"),
			Message: fmt.Sprintf("the prompt is %d tokens; this server takes at most %d (model context %d, which must leave room for one new token)",
				len(prompt), min(s.maxPrompt, ctxLen-1), ctxLen)}
	case f.N != nil && *f.N != 1:
		return nil, badRequest("n", "n must be 1, got %d", *f.N)
	case len(f.Stop) > 4:
		return nil, badRequest("stop", "at most 4 stop sequences, got %d", len(f.Stop))
	}
	room := ctxLen - len(prompt)
	g.maxNew = min(room, s.maxNewTokens)
	for _, m := range []*int{f.MaxTokens, f.MaxCompletionTokens} {
		if m == nil {
			continue
		}
		switch {
		case *m <= 0:
			return nil, badRequest("max_tokens", "max_tokens must be positive, got %d", *m)
		case *m > s.maxNewTokens:
			return nil, badRequest("max_tokens", "max_tokens is %d; this server generates at most %d", *m, s.maxNewTokens)
		case *m > room:
			return nil, &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: strPtr("max_tokens"), Code: strPtr("context_length_exceeded"),
				Message: fmt.Sprintf("%d prompt tokens + max_tokens %d exceed the model's context of %d", len(prompt), *m, ctxLen)}
		}
		g.maxNew = *m
	}
	g.sampling = model.Sampling{Temperature: 1, Seed: rand.Uint64()} // OpenAI's defaults
	if t := f.Temperature; t != nil {
		if !(*t >= 0 && *t <= 2) {
			return nil, badRequest("temperature", "temperature must be in [0, 2], got %v", *t)
		}
		g.sampling.Temperature = float32(*t)
	}
	if p := f.TopP; p != nil {
		if !(*p > 0 && *p <= 1) {
			return nil, badRequest("top_p", "top_p must be in (0, 1], got %v", *p)
		}
		g.sampling.TopP = float32(*p)
	}
	if f.Seed != nil {
		g.sampling.Seed = uint64(*f.Seed)
	}
	return g, nil
}

// result is a finished generation: its text, why it ended, and how many tokens it made.
type result struct {
	text   string
	finish string
	tokens int
}

// generate runs g through the scheduler and calls piece (when not nil) with each piece of text
// as it becomes final. It returns when the generation ends, the client goes away, or the server
// shuts down.
func (s *server) generate(ctx context.Context, g *generation, piece func(string)) (*result, *apiError) {
	smp, err := model.NewSampler(g.sampling, s.text.VocabSize())
	if err != nil {
		return nil, badRequest("", "%v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // leaves the batch within one step once this handler returns
	req := newRequest(ctx, g.prompt, g.maxNew, smp, s.stopIDs)
	if err := s.sched.submit(req); err != nil {
		return nil, &apiError{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: strPtr("server_busy"),
			Message: "the server is busy: its request queue is full; retry shortly", RetryAfter: 1}
	}
	stream := s.text.Stream()
	stops := &stopMatcher{stops: g.stops}
	var text strings.Builder
	emit := func(p string) {
		if p == "" {
			return
		}
		text.WriteString(p)
		if piece != nil {
			piece(p)
		}
	}
	res := &result{}
	for ev := range req.out {
		switch {
		case ev.err != nil:
			if ctx.Err() != nil && res.finish != "" { // we cancelled it: a stop string matched
				return res, nil
			}
			return nil, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: ev.err.Error()}
		case ev.finish != "":
			tail, hit := stops.add(stream.Flush())
			emit(tail)
			if !hit {
				emit(stops.flush())
			}
			res.text, res.finish = text.String(), ev.finish
			if hit {
				res.finish = "stop"
			}
			return res, nil
		}
		res.tokens++
		p, err := stream.Add(ev.tok)
		if err != nil {
			return nil, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
		}
		p, hit := stops.add(p)
		emit(p)
		if hit {
			res.text, res.finish = text.String(), "stop"
			return res, nil // the deferred cancel takes the request out of the batch
		}
	}
	return nil, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: "generation ended without a result"}
}

func (s *server) newID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, s.created, s.ids.Add(1))
}

func (s *server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, badRequest("messages", "messages must not be empty"))
		return
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant":
		default:
			writeError(w, badRequest(fmt.Sprintf("messages[%d].role", i), "role %q is not supported (system, developer, user, assistant)", m.Role))
			return
		}
	}
	msgs := make([]hf.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = hf.Message{Role: m.Role, Content: string(m.Content)}
	}
	text, err := s.template.Render(msgs, true)
	if err != nil {
		writeError(w, badRequest("messages", "chat template: %v", err))
		return
	}
	g, e := s.plan(req.samplingFields, s.text.Encode(text, false)) // the template writes the special tokens
	if e != nil {
		writeError(w, e)
		return
	}
	id, now := s.newID("chatcmpl"), time.Now().Unix()
	chunk := func(d *chatDelta, finish *string, u *usage) chatResponse {
		c := chatResponse{ID: id, Object: "chat.completion.chunk", Created: now, Model: s.modelID, Usage: u}
		if d != nil || finish != nil {
			c.Choices = []chatChoice{{Delta: d, FinishReason: finish}}
		} else {
			c.Choices = []chatChoice{}
		}
		return c
	}
	if !g.stream {
		res, e := s.generate(r.Context(), g, nil)
		if e != nil {
			writeError(w, e)
			return
		}
		writeJSON(w, http.StatusOK, chatResponse{ID: id, Object: "chat.completion", Created: now, Model: s.modelID,
			Choices: []chatChoice{{Message: &chatMessage{Role: "assistant", Content: flexContent(res.text)}, FinishReason: &res.finish}},
			Usage:   &usage{len(g.prompt), res.tokens, len(g.prompt) + res.tokens}})
		return
	}
	sse := startEvents(w)
	sse.send(chunk(&chatDelta{Role: "assistant"}, nil, nil))
	res, e := s.generate(r.Context(), g, func(p string) { sse.send(chunk(&chatDelta{Content: p}, nil, nil)) })
	if e != nil {
		sse.fail(e)
		return
	}
	sse.send(chunk(&chatDelta{}, &res.finish, nil))
	if g.usage {
		sse.send(chunk(nil, nil, &usage{len(g.prompt), res.tokens, len(g.prompt) + res.tokens}))
	}
	sse.done()
}

func (s *server) completions(w http.ResponseWriter, r *http.Request) {
	var req completionRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	if len(req.Prompt) != 1 {
		writeError(w, badRequest("prompt", "prompt must be one string, got %d", len(req.Prompt)))
		return
	}
	g, e := s.plan(req.samplingFields, s.text.Encode(req.Prompt[0], true))
	if e != nil {
		writeError(w, e)
		return
	}
	id, now := s.newID("cmpl"), time.Now().Unix()
	resp := func(text string, finish *string, u *usage) completionResponse {
		return completionResponse{ID: id, Object: "text_completion", Created: now, Model: s.modelID,
			Choices: []completionChoice{{Text: text, FinishReason: finish}}, Usage: u}
	}
	if !g.stream {
		res, e := s.generate(r.Context(), g, nil)
		if e != nil {
			writeError(w, e)
			return
		}
		writeJSON(w, http.StatusOK, resp(res.text, &res.finish, &usage{len(g.prompt), res.tokens, len(g.prompt) + res.tokens}))
		return
	}
	sse := startEvents(w)
	res, e := s.generate(r.Context(), g, func(p string) { sse.send(resp(p, nil, nil)) })
	if e != nil {
		sse.fail(e)
		return
	}
	final := resp("", &res.finish, nil)
	if g.usage {
		final.Usage = &usage{len(g.prompt), res.tokens, len(g.prompt) + res.tokens}
	}
	sse.send(final)
	sse.done()
}

func (s *server) embeddings(w http.ResponseWriter, r *http.Request) {
	if s.embed == nil {
		writeError(w, &apiError{Status: http.StatusNotFound, Type: "invalid_request_error", Message: "this model serves no embeddings"})
		return
	}
	var req embeddingRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		writeError(w, badRequest("encoding_format", "encoding_format %q is not supported (float)", req.EncodingFormat))
		return
	}
	inputs, e := s.embeddingInputs(req.Input)
	if e != nil {
		writeError(w, e)
		return
	}
	out := embeddingResponse{Object: "list", Model: s.modelID, Data: make([]embeddingData, len(inputs))}
	for i, ids := range inputs {
		if err := r.Context().Err(); err != nil {
			return // the client went away
		}
		v, err := s.embed(ids)
		if err != nil {
			writeError(w, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()})
			return
		}
		out.Data[i] = embeddingData{Object: "embedding", Index: i, Embedding: v}
		out.Usage.PromptTokens += len(ids)
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	writeJSON(w, http.StatusOK, out)
}

// embeddingInputs reads input: a string, an array of strings, an array of token ids, or an
// array of such arrays.
func (s *server) embeddingInputs(raw json.RawMessage) ([][]int, *apiError) {
	var texts stringList
	var inputs [][]int
	if err := json.Unmarshal(raw, &texts); err == nil {
		for _, t := range texts {
			inputs = append(inputs, s.text.Encode(t, true))
		}
	} else {
		var one []int
		if err := json.Unmarshal(raw, &one); err == nil {
			inputs = [][]int{one}
		} else if err := json.Unmarshal(raw, &inputs); err != nil {
			return nil, badRequest("input", "input must be a string, an array of strings or an array of token arrays")
		}
	}
	if len(inputs) == 0 || len(inputs) > s.maxInputs {
		return nil, badRequest("input", "input must hold 1 to %d items, got %d", s.maxInputs, len(inputs))
	}
	ctxLen, v := s.sched.eng.contextLen(), s.text.VocabSize()
	for i, ids := range inputs {
		if len(ids) == 0 || len(ids) > min(ctxLen, s.maxPrompt) {
			return nil, badRequest("input", "input %d is %d tokens; it must be 1 to %d", i, len(ids), min(ctxLen, s.maxPrompt))
		}
		for _, id := range ids {
			if id < 0 || id >= v {
				return nil, badRequest("input", "input %d has token id %d outside the vocabulary [0, %d)", i, id, v)
			}
		}
	}
	return inputs, nil
}

// normalise scales v to unit length (a zero vector stays zero).
func normalise(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// events writes server-sent events: one "data: JSON" per message, then "data: [DONE]".
type events struct {
	w http.ResponseWriter
	f http.Flusher
}

func startEvents(w http.ResponseWriter) *events {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &events{w: w, f: f}
}

func (e *events) write(data string) {
	fmt.Fprintf(e.w, "data: %s\n\n", data)
	if e.f != nil {
		e.f.Flush()
	}
}

func (e *events) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("serve: cannot encode an event: %v", err)) // our own types always encode
	}
	e.write(string(b))
}

// fail sends an error as the stream's last event (the status line has gone already).
func (e *events) fail(err *apiError) {
	e.send(struct {
		Error *apiError `json:"error"`
	}{err})
	e.done()
}

func (e *events) done() { e.write("[DONE]") }
