package main

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
)

// The page: plain HTML, CSS and JavaScript, embedded so the program works offline.
//
//go:embed static
var staticFiles embed.FS

// Limits on what one request may ask for. Each is stated in the error a request over it gets.
const (
	maxTextBytes   = 4000    // the Run view's text
	maxIDs         = 1024    // ids sent instead of text
	maxRunTokens   = 128     // positions one run shows (the last ones of a longer text)
	maxAttnValues  = 4 << 20 // layers × heads × T² attention weights in one response
	maxTemperature = 10.0
	maxBodyBytes   = 64 << 10 // a JSON request, the training text aside
	maxTrainBody   = 3 << 20  // a training request, with its text
	maxCustomText  = 2 << 20  // a pasted training text
	maxStreams     = 64       // training-progress streams open at once
	maxEmbedPoints = 2000     // tokens drawn on the embedding map
	requestTimeout = 30 * time.Second
)

// options configure a server.
type options struct {
	ckpt   string // a checkpoint directory to load (examples/shakespeare's -out, or the page's saves)
	hf     string // a Hugging Face directory: a GPT-2 or a Llama-family decoder
	seq    string // an encoder–decoder directory (model.SaveTransformer, examples/translate -save)
	out    string // where the page's Save button writes a checkpoint
	seed   uint64 // of the untrained model shown before any training
	quiet  bool
	logger *log.Logger

	// For tests: called after each training step's backward pass, before the finite check.
	gradHook func(step int, params []*autograd.Var)
	// For tests: called before each evaluation batch (a slow evaluation).
	evalHook func(step, batch int)
	// How long a training-progress stream lasts before the server ends it (default 5 minutes).
	streamLife time.Duration
	// How long a request waits for a computation slot before a 503 (default 10 s).
	queueTimeout time.Duration
	// How often the trainer publishes a snapshot for the Run view, and how often a sample is
	// written from the latest one.
	snapshotEvery, sampleEvery time.Duration
	// Tokens in each sample (default 160).
	sampleTokens int
}

// server is the explorer's HTTP server: the page, its JSON endpoints and the training run.
type server struct {
	opt      options
	ctx      context.Context // ends with the server: training stops, streams close
	reg      *registry
	work     chan struct{} // a slot per concurrent model computation
	streams  atomic.Int32
	cache    *probCache
	train    *trainManager
	loopback atomic.Bool // whether to check the Host header (a loopback listener)
}

// newServer loads the models named in opt and returns a server whose background work (training)
// lives until ctx ends.
func newServer(ctx context.Context, opt options) (*server, error) {
	if opt.out == "" {
		opt.out = "out-explore"
	}
	if opt.snapshotEvery == 0 {
		opt.snapshotEvery = 200 * time.Millisecond
	}
	if opt.sampleEvery == 0 {
		opt.sampleEvery = 2 * time.Second
	}
	if opt.sampleTokens == 0 {
		opt.sampleTokens = 160
	}
	if opt.streamLife == 0 {
		opt.streamLife = 5 * time.Minute
	}
	if opt.queueTimeout == 0 {
		opt.queueTimeout = 10 * time.Second
	}
	if opt.logger == nil {
		opt.logger = log.New(io.Discard, "", 0)
	}
	s := &server{
		opt: opt, ctx: ctx, reg: newRegistry(),
		work:  make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		cache: newProbCache(32),
	}
	if opt.ckpt != "" {
		m, voc, step, err := loadCheckpoint(ctx, opt.ckpt)
		if err != nil {
			return nil, err
		}
		s.reg.add("checkpoint", "checkpoint "+opt.ckpt, opt.ckpt, newServed(m.Frozen(), voc, step, fmt.Sprintf("trained %d iterations", step)))
	}
	if opt.hf != "" {
		m, voc, err := loadHF(opt.hf)
		if err != nil {
			return nil, err
		}
		name, title, note := "gpt2", "GPT-2 "+opt.hf, "pretrained"
		if llamaFamily(m.Config) {
			name, title = "llama", "Llama family "+opt.hf
		}
		if voc.kind == "ids" {
			note = "pretrained · no tokenizer.json in the directory: type token ids (1 5 9)"
		}
		s.reg.add(name, title, opt.hf, newServed(m.Frozen(), voc, 0, note))
	}
	if opt.seq != "" {
		m, voc, err := loadSeq2Seq(opt.seq)
		if err != nil {
			return nil, err
		}
		s.reg.add("seq2seq", "encoder–decoder "+filepath.Base(opt.seq), opt.seq, &served{tm: m, seq: voc, version: versions.Add(1), note: "loaded"})
	}
	m, voc, info, err := loadPretrained(pretrainedFile)
	if err != nil {
		return nil, err
	}
	s.reg.add(pretrainedModel, "tiny Shakespeare (shipped)", "trained by the page's own training code, shipped in the program",
		newServed(m.Frozen(), voc, info.step, fmt.Sprintf("trained %d iterations on tiny Shakespeare (validation loss %.2f); random weights: pick \"trained here\"", info.step, info.valLoss)))
	s.train = newTrainManager(s)
	if err := s.train.addUntrained(); err != nil {
		return nil, err
	}
	return s, nil
}

// httpError is an error with the status code the client gets.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		writeJSON(w, he.code, map[string]string{"error": he.msg})
	case errors.As(err, &mbe):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("the request body is over %d bytes", mbe.Limit)})
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the server is busy: try again in a moment"})
	default:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	}
}

// decodeJSON reads a JSON request body of at most limit bytes into v: one object with known
// fields only, and nothing after it.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return decodeBody(w, r, limit, v, false)
}

// decodeJSONOrEmpty is decodeJSON for a body that may also be empty (the commands).
func decodeJSONOrEmpty(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return decodeBody(w, r, limit, v, true)
}

func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any, emptyOK bool) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		// A browser sends application/json from another site only after a CORS preflight, which
		// this server never grants: requiring it keeps other pages from driving this one.
		return &httpError{code: http.StatusUnsupportedMediaType, msg: "send the request as JSON (Content-Type: application/json)"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			if emptyOK {
				return nil
			}
			return badRequest("the request body is empty: send a JSON object")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("malformed JSON: %v", err)
	}
	if dec.More() {
		return badRequest("malformed JSON: more than one value in the body")
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("malformed JSON: data after the object")
	}
	return nil
}

// acquire waits for a computation slot, so that however many requests arrive, only as many
// forward passes run at once as there are cores, and a request that waits too long gets a 503
// instead of piling up.
func (s *server) acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(s.opt.queueTimeout)
	defer t.Stop()
	select {
	case s.work <- struct{}{}:
		return func() { <-s.work }, nil
	case <-t.C:
		return nil, &httpError{code: http.StatusServiceUnavailable, msg: "the server is busy: try again in a moment"}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// handler returns the server's routes, wrapped in its guards.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "index.html")
	})
	api := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, http.TimeoutHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				writeError(w, err)
			}
		}), requestTimeout, `{"error":"the request took too long"}`))
	}
	api("GET /api/models", s.handleModels)
	api("GET /api/run", s.handleRun)
	api("POST /api/run", s.handleRun)
	api("GET /api/next", s.handleNext)
	api("POST /api/next", s.handleNext)
	api("GET /api/generate", s.handleGenerate)
	api("POST /api/generate", s.handleGenerate)
	api("GET /api/embeddings", s.handleEmbeddings)
	api("POST /api/inside", s.handleInside)
	api("GET /api/translate", s.handleTranslate)
	api("POST /api/translate", s.handleTranslate)
	api("GET /api/train", s.handleTrainStatus)
	api("POST /api/train/start", s.handleTrainStart)
	api("POST /api/train/stop", s.handleTrainCommand("stop"))
	api("POST /api/train/resume", s.handleTrainCommand("resume"))
	api("POST /api/train/save", s.handleTrainCommand("save"))
	mux.HandleFunc("GET /api/train/events", s.handleTrainEvents) // a stream: no timeout
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)})
	})
	return s.guard(mux)
}

// guard recovers from panics (a request gets a 500, the process carries on), refuses Host names
// other than the loopback ones when listening on loopback (so a web page elsewhere cannot reach
// the server through DNS rebinding), and sets headers that keep the page to its own files.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.opt.logger.Printf("panic serving %s %s: %v", r.Method, r.URL.Path, v)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": fmt.Sprint("internal error: ", v)})
			}
		}()
		if s.loopback.Load() && !loopbackHost(r.Host) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "this server answers to localhost only"})
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// modelInfo describes a model for the page's model picker.
type modelInfo struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"` // "gpt" or "seq2seq"
	Title     string `json:"title"`
	Source    string `json:"source"`
	Note      string `json:"note"`
	Tokenizer string `json:"tokenizer"`
	Vocab     int    `json:"vocab"`
	Context   int    `json:"context"`
	Layers    int    `json:"layers"`                   // a GPT's, or an encoder–decoder's decoder layers
	EncLayers int    `json:"encoder_layers,omitempty"` // an encoder–decoder's encoder layers
	Heads     int    `json:"heads"`
	KVHeads   int    `json:"kv_heads,omitempty"`  // a GPT's key/value heads, when fewer than its query heads
	Family    string `json:"family,omitempty"`    // a GPT's: "gpt2" or "llama" (RMSNorm, rotary, SwiGLU)
	FFHidden  int    `json:"ff_hidden,omitempty"` // a GPT's feed-forward hidden width
	HeadDim   int    `json:"head_dim,omitempty"`  // a GPT's head width HS
	Width     int    `json:"width"`
	Params    int    `json:"params"`
	Step      int    `json:"step"`
	Version   uint64 `json:"version"`
	Window    int    `json:"window"`            // the most tokens one run (or source) shows
	Example   string `json:"example,omitempty"` // an encoder–decoder's first source
}

func describe(e *entry, s *served) modelInfo {
	if s.tm != nil {
		c := s.tm.Config
		return modelInfo{
			Name: e.name, Kind: kindSeq2Seq, Title: e.title, Source: e.source, Note: s.note, Tokenizer: s.seq.kind(),
			Vocab: c.TgtVocabSize, Context: c.MaxLen, Layers: c.NumDecoderLayers, EncLayers: c.NumEncoderLayers,
			Heads: c.NHead, Width: c.DModel, Params: s.tm.NumParams(), Version: s.version, Window: seqLimit(s),
			Example: s.seq.example(),
		}
	}
	c := s.m.Config
	return modelInfo{
		Name: e.name, Kind: kindGPT, Title: e.title, Source: e.source, Note: s.note, Tokenizer: s.voc.kind,
		Vocab: c.VocabSize, Context: c.BlockSize, Layers: c.NLayer, Heads: c.NHead, Width: c.NEmbd,
		Params: s.m.NumParams(), Step: s.step, Version: s.version, Window: window(s),
		KVHeads: kvHeads(c), Family: family(c), FFHidden: cmp.Or(c.FFHidden, 4*c.NEmbd),
		HeadDim: cmp.Or(c.HeadDim, c.NEmbd/c.NHead),
	}
}

func family(c model.Config) string {
	if llamaFamily(c) {
		return "llama"
	}
	return "gpt2"
}

// kvHeads is c's number of key/value heads when fewer than its query heads (grouped-query
// attention), else 0.
func kvHeads(c model.Config) int {
	if c.NKVHead > 0 && c.NKVHead < c.NHead {
		return c.NKVHead
	}
	return 0
}

func (s *server) handleModels(w http.ResponseWriter, r *http.Request) error {
	var out []modelInfo
	for _, e := range s.reg.list() {
		out = append(out, describe(e, e.cur.Load()))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"models": out,
		"limits": map[string]any{
			"text_bytes": maxTextBytes, "ids": maxIDs, "run_tokens": maxRunTokens, "temperature": maxTemperature,
			"custom_text_bytes": maxCustomText, "beam": maxBeam,
		},
		"train_defaults": presets(),
	})
	return nil
}
