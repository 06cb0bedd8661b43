// Command serve serves a model over OpenAI's HTTP API, so that programs written for hosted
// models (the official clients, curl) can call it unchanged:
//
//	go run ./examples/serve -model DIR                   # 127.0.0.1:8080
//	go run ./examples/serve -model DIR -addr :9000 -api-key secret -weights int8
//
// Routes: GET /v1/models, POST /v1/chat/completions (messages through the model's chat template;
// stream: true sends server-sent events ending with "data: [DONE]"), POST /v1/completions (a
// plain prompt), POST /v1/embeddings (the normalised mean of the final hidden states).
//
// Concurrent requests are decoded together: each decode step runs one token of every running
// request as one batch, and requests join and leave between steps (-max-batch of them at once).
// Further requests wait in a queue of -queue; when it is full the server answers 429 with
// Retry-After. A client that disconnects leaves the batch within one step. Prompt length,
// max_tokens and body size are bounded (400, or 413 for the body). SIGTERM or Ctrl-C stops
// accepting, lets running requests finish for up to -drain, cancels the rest, and exits 0.
//
// A model directory without a chat template (a GPT-2) gets a plain one: each message as
// "role: content" on its own line, then "assistant:".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/goformer/goformer/examples/internal/modeldir"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// options are serve's flags.
type options struct {
	dir, random, addr, apiKey, name string
	weights                         model.WeightFormat
	maxBatch, queue                 int
	drain                           time.Duration
	limits
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{weights: model.Float32}
	fs.StringVar(&o.dir, "model", "", "model directory (config.json, model.safetensors, and its tokenizer)")
	fs.StringVar(&o.random, "random", "", "instead of -model, serve random weights of a shape, for measuring: gpt2-124m or smollm2-135m")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.apiKey, "api-key", "", "if set, clients must send Authorization: Bearer KEY")
	fs.StringVar(&o.name, "name", "", "model id to report (default: the directory's name)")
	fs.Var(&o.weights, "weights", "weight format for decoding: float32, bf16 or int8")
	fs.IntVar(&o.maxBatch, "max-batch", 16, "requests decoded together in one step")
	fs.IntVar(&o.queue, "queue", 64, "requests that may wait for a place in the batch; more get 429")
	fs.DurationVar(&o.drain, "drain", 5*time.Second, "on SIGTERM, how long running requests may take to finish")
	fs.Int64Var(&o.maxBody, "max-body", 1<<20, "largest request body, in bytes")
	fs.IntVar(&o.maxPrompt, "max-prompt", 8192, "most prompt tokens (also bounded by the model's context)")
	fs.IntVar(&o.maxNewTokens, "max-tokens", 2048, "largest max_tokens a request may ask for")
	fs.IntVar(&o.maxInputs, "max-inputs", 64, "most inputs in one embeddings request")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case (o.dir == "") == (o.random == ""):
		return nil, errors.New("give one of -model DIR and -random SHAPE")
	case o.maxBatch < 1 || o.queue < 0 || o.drain < 0 || o.maxBody < 1 || o.maxPrompt < 1 || o.maxNewTokens < 1 || o.maxInputs < 1:
		return nil, errors.New("-max-batch, -max-body, -max-prompt, -max-tokens and -max-inputs must be positive; -queue and -drain not negative")
	}
	return o, nil
}

// run serves until ctx is done. ready, when not nil, receives the address once listening.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var lm *modeldir.Model
	if o.dir != "" {
		lm, err = modeldir.Open(o.dir, o.weights)
	} else {
		lm, err = randomModel(o.random, o.weights)
	}
	if err != nil {
		return err
	}
	if o.name != "" {
		lm.Name = o.name
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "serving %s on http://%s/v1 (batch %d, queue %d)\n", lm.Name, ln.Addr(), o.maxBatch, o.queue)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	return serveWith(ctx, ln, lm, o, nil)
}

// hooks let tests look at the scheduler and wrap the engine.
type hooks struct {
	scheduler func(*scheduler)
	engine    func(engine) engine
}

// serveWith answers on ln until ctx is done, then drains: it stops accepting, gives running
// requests o.drain to finish, cancels the rest, and returns nil.
func serveWith(ctx context.Context, ln net.Listener, lm *modeldir.Model, o *options, h *hooks) error {
	dec := lm.GPT.NewDecoder()
	decodeCtx, stopDecoding := context.WithCancel(context.Background())
	defer stopDecoding()
	var eng engine = modelEngine{dec, lm.GPT.Config.BlockSize}
	if h != nil && h.engine != nil {
		eng = h.engine(eng)
	}
	sched := newScheduler(eng, o.maxBatch, o.queue)
	if h != nil && h.scheduler != nil {
		h.scheduler(sched)
	}
	decoding := make(chan struct{})
	go func() { sched.run(decodeCtx); close(decoding) }()
	s := &server{modelID: lm.Name, created: time.Now().Unix(), sched: sched, text: lm.Text, vocab: lm.GPT.Config.VocabSize,
		template: lm.Template, stopIDs: lm.Stop, embed: dec.Embed, limits: o.limits, apiKey: o.apiKey}
	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	drain, cancel := context.WithTimeout(context.Background(), o.drain)
	defer cancel()
	if err := hs.Shutdown(drain); err != nil { // running requests outlived the drain: cancel them
		stopDecoding()
		<-decoding
		closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(closeCtx)
	}
	return nil
}

// modelEngine decodes with a model.Decoder.
type modelEngine struct {
	d     *model.Decoder
	block int
}

func (e modelEngine) start(prompt []int) (sequence, []float32, error) {
	s, logits, err := e.d.Start(prompt)
	if err != nil {
		return nil, nil, err
	}
	return s, logits, nil
}

func (e modelEngine) step(seqs []sequence, tokens []int) ([][]float32, error) {
	ms := make([]*model.Sequence, len(seqs))
	for i, s := range seqs {
		ms[i] = s.(*model.Sequence)
	}
	return e.d.Step(ms, tokens)
}

func (e modelEngine) contextLen() int { return e.block }

// randomShapes are the model shapes -random serves, for throughput figures without downloads.
var randomShapes = map[string]model.Config{
	"gpt2-124m": {VocabSize: 50257, BlockSize: 1024, NLayer: 12, NHead: 12, NEmbd: 768, GELUTanh: true},
	"smollm2-135m": {VocabSize: 49152, BlockSize: 8192, NLayer: 30, NHead: 9, NKVHead: 3, NEmbd: 576, FFHidden: 1536,
		NoBias: true, Positions: model.PositionsRotary, RopeTheta: 100000, Norm: model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU},
}

// randomModel is a model of a named shape with random weights, spoken to through GPT-2's
// tokenizer (both shapes' vocabularies fit in it): its answers are noise, but every token costs
// what a trained model's does.
func randomModel(shape string, f model.WeightFormat) (*modeldir.Model, error) {
	cfg, ok := randomShapes[shape]
	if !ok {
		return nil, fmt.Errorf("-random %q: want gpt2-124m or smollm2-135m", shape)
	}
	m, err := model.New(cfg, 1)
	if err != nil {
		return nil, err
	}
	if f != model.Float32 {
		if m, err = m.Compact(f); err != nil {
			return nil, err
		}
	}
	enc, err := gpt2.Encoding()
	if err != nil {
		return nil, err
	}
	return &modeldir.Model{Name: shape, GPT: m, Text: modeldir.TokenText(enc), Template: modeldir.Plain{}}, nil
}
