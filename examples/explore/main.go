// Command explore serves a page, on your own machine, that shows a GPT thinking and learning (and
// an encoder–decoder translating):
//
//	go run ./examples/explore                          # prints http://127.0.0.1:PORT/: open it
//	go run ./examples/explore -ckpt out-shakespeare    # a model examples/shakespeare trained
//	go run ./examples/explore -model path/to/gpt2      # a Hugging Face GPT-2 (with GPT-2's tokenizer)
//	go run ./examples/explore -model path/to/SmolLM2   # a Llama-family one (Llama, SmolLM, Mistral, Qwen2, Qwen3)
//	go run ./examples/explore -seq2seq out-translate   # an encoder–decoder examples/translate -save wrote
//	go run ./examples/explore -addr 127.0.0.1:8080     # a fixed port
//
// It opens on a small GPT trained on tiny Shakespeare that ships inside the program
// (pretrained.go); "trained here" is the page's own model, random weights until trained.
// The Run tab shows, for a text you type (or one in the link: /?text=...), the model's parts as
// a flow diagram whose boxes lead to the panels, its tokens and their ids, the next-token probabilities as bars (with temperature and top-k sliders), the attention
// weights of every layer and head as heat maps, and the token embeddings on the plane of their
// two principal components; a button samples one more token. The Train tab trains a small GPT on
// tiny Shakespeare, the Humpty Dumpty rhyme or a text you paste, with the loss curves and a
// sample growing live; the Run tab meanwhile shows the model as it is at that moment. Stop,
// Resume and Save (to -out) act on the run, which belongs to the server: closing the page stops
// nothing. For an encoder–decoder (-seq2seq), the Run view translates the text instead: the
// source and output tokens (each output token coloured by how sure the decoder was), the greedy
// or beam-search translation, and the cross-attention of every layer and head as heat maps
// (output tokens down, source tokens across), with the decoder's and the encoder's
// self-attention a click away. The Story tab walks the lessons' steps (examples/lessons) live on
// the picked model and the Run tab's text (/?tab=story&step=N links to a step). A training
// request whose estimated memory is over 3 GB is refused (memory.go).
//
// The page is plain HTML, CSS and JavaScript embedded in the program: it needs no network.
// The server listens on 127.0.0.1 unless -addr says otherwise. Its JSON endpoints, which are all
// the page uses (POST bodies are JSON objects; GET takes the same fields as query parameters):
//
//	GET  /api/models                    the models, the request limits, the training presets
//	GET|POST /api/run                   {model, text | ids, temperature, top_k}: tokens, next-token
//	                                    bars, attention maps, embedding coordinates
//	GET|POST /api/next                  {model, ids, temperature, top_k}: the bars alone (sliders)
//	GET|POST /api/generate              {model, text | ids, temperature, top_k, seed}: one sampled
//	                                    token appended, and the run of the longer sequence
//	GET  /api/embeddings?model=NAME     the tokens on the plane of wte's two principal components
//	POST /api/inside                    {model, ids, layer, pos}: one token's q, k, v per head, its
//	                                    attention scores and weights, its MLP's activations
//	GET|POST /api/translate             {model, text | ids, beam}: an encoder–decoder's source and
//	                                    output tokens, translation, attention maps
//	GET  /api/train                     the training status, with the whole loss curve
//	POST /api/train/start               {text, custom_text, tokenizer, n_layer, ...}: a new run
//	POST /api/train/stop|resume|save    act on the run between two steps
//	GET  /api/train/events              server-sent events: the status, then what changes
//
// A Llama-family directory (-model) is read with its own tokenizer.json; without one, the Run
// view takes token ids typed as numbers. Its attention maps group the query heads that share a
// key/value head, and the "Inside one token" card writes out its layer (RMSNorm, rotary
// positions, grouped KV heads, SwiGLU).
//
// A bad request (malformed JSON, a text over 4000 bytes, an unknown model, a negative top-k, a
// temperature that is not a number in [0, 10], ids outside the vocabulary, a source longer than
// the model reads, a GPT asked to translate, ...) gets a 4xx and
// {"error": "..."} saying what was wrong. Model computations share as many slots as there are
// cores, and a request that cannot get one within 10 s gets a 503.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/goformer/goformer/tensor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "explore:", err)
		os.Exit(1)
	}
}

// run parses the flags, loads the models and serves until ctx ends. ready, when not nil,
// receives the page's URL once the server listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0: a free one); give a non-loopback host only to share the page")
	ckpt := fs.String("ckpt", "", "a checkpoint directory to explore (examples/shakespeare's -out, or one the page saved)")
	hf := fs.String("model", "", "a Hugging Face directory to explore (config.json + model.safetensors): a GPT-2, or a Llama-family decoder with its tokenizer.json")
	seq := fs.String("seq2seq", "", "an encoder–decoder directory to explore (examples/translate -save, or model.SaveTransformer)")
	out := fs.String("out", "out-explore", "where the Train tab's Save writes a checkpoint")
	threads := fs.Int("threads", 0, "goroutines for the heavy kernels (0: GOMAXPROCS)")
	seed := fs.Uint64("seed", 1337, "seed of the untrained model shown before any training")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *threads < 0 {
		return fmt.Errorf("-threads must be >= 0, got %d", *threads)
	}
	tensor.SetWorkers(*threads)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logger := log.New(stderr, "explore: ", log.LstdFlags)
	srv, err := newServer(ctx, options{ckpt: *ckpt, hf: *hf, seq: *seq, out: *out, seed: *seed, logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	tcp := ln.Addr().(*net.TCPAddr)
	srv.loopback.Store(tcp.IP.IsLoopback())
	url := fmt.Sprintf("http://%s/", ln.Addr())
	if tcp.IP.IsUnspecified() {
		url = fmt.Sprintf("http://127.0.0.1:%d/", tcp.Port)
		fmt.Fprintf(stdout, "listening on every interface (port %d): anyone who can reach this machine can use the page\n", tcp.Port)
	}
	fmt.Fprintf(stdout, "explore: open %s\n", url)
	hs := &http.Server{
		Handler:           srv.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx }, // streams end with the server
		ErrorLog:          logger,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if ready != nil {
		ready <- url
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cancel()
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := hs.Shutdown(shut); err != nil {
		return err
	}
	return nil
}
