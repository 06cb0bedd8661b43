// Command gpt2 generates text with a model from a Hugging Face directory: a GPT-2 (config.json
// and model.safetensors, as save_pretrained writes them or as openai-community/gpt2 publishes
// them) or a Llama-family model (Llama, SmolLM2, Mistral, Qwen2, Qwen3), tokenizing with the
// directory's own tokenizer.json, or with the embedded GPT-2 tokenizer where there is none, and
// printing the text as the tokens arrive.
//
//	go run ./examples/gpt2 -model DIR -prompt "Humpty Dumpty sat on a" -n 40 -temperature 0.8 -top-k 40 -seed 1
//	go run ./examples/gpt2 -model path/to/SmolLM2-135M -prompt "The capital of France is" -n 20 -temperature 0
//	go run ./examples/gpt2 -model DIR -ids "31527,29710,10463" -n 10 -temperature 0
//	go run ./examples/gpt2 -model DIR -prompt "Humpty Dumpty sat on a" -weights int8 -stats
//
// Generation stops after -n tokens, at one of the model's stop tokens (the eos ids of
// config.json, generation_config.json and tokenizer_config.json; <|endoftext|> for a GPT-2)
// unless -no-stop, or on Ctrl-C. A directory with no tokenizer that GPT-2's vocabulary does not
// fit (a test fixture) takes its prompt as -ids and prints ids.
// -weights bf16 or int8 generates from a view of the model whose weight matrices are held in
// bfloat16 or int8 (model.GPT.Compact): half or a quarter of the memory, and faster decoding
// where memory bandwidth is the limit, at the cost of slightly different logits.
//
// (It keeps its first name, gpt2, so that the commands already written in the README and the
// lessons keep working; for chatting with an instruction-tuned model, see examples/chat.)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/goformer/goformer/examples/internal/modeldir"
	"github.com/goformer/goformer/model"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "gpt2:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gpt2", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("model", "", "Hugging Face model directory (config.json + model.safetensors, and tokenizer.json for the Llama family)")
	prompt := fs.String("prompt", "", "prompt text")
	rawIDs := fs.String("ids", "", "prompt as comma-separated token ids, instead of -prompt")
	n := fs.Int("n", 40, "tokens to generate")
	temp := fs.Float64("temperature", 0.8, "sampling temperature; 0 is greedy (argmax)")
	topK := fs.Int("top-k", 40, "sample among the k most likely tokens; 0 for all")
	topP := fs.Float64("top-p", 0, "nucleus sampling: the smallest set of tokens with at least this mass; 0 for all")
	seed := fs.Uint64("seed", 1, "random seed")
	noStop := fs.Bool("no-stop", false, "do not stop at the model's stop tokens (<|endoftext|>, eos)")
	stats := fs.Bool("stats", false, "print timing to stderr")
	weights := model.Float32
	fs.Var(&weights, "weights", "weight format for generation: float32, bf16 or int8")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (quote the prompt: -prompt \"...\")", fs.Args())
	}
	if *dir == "" {
		return errors.New("-model DIR is required")
	}
	if (*prompt == "") == (*rawIDs == "") {
		return errors.New("give exactly one of -prompt TEXT and -ids 1,2,3")
	}

	start := time.Now()
	md, err := modeldir.OpenIDs(*dir, model.Float32)
	if err != nil {
		return err
	}
	m := md.GPT
	if *stats {
		fmt.Fprintf(stderr, "loaded %s: %d parameters, %+v in %v\n", *dir, m.NumParams(), m.Config, time.Since(start).Round(time.Millisecond))
	}
	if weights != model.Float32 {
		start = time.Now()
		// Only the view is kept: the float32 weights can be freed.
		if m, err = m.Compact(weights); err != nil {
			return err
		}
		if *stats {
			fmt.Fprintf(stderr, "weights converted to %v in %v\n", weights, time.Since(start).Round(time.Millisecond))
		}
	}
	var ids []int
	switch {
	case *rawIDs != "":
		if ids, err = parseIDs(*rawIDs); err != nil {
			return err
		}
	case md.Text == nil:
		return fmt.Errorf("%s has no tokenizer.json, and GPT-2's tokenizer does not fit its vocabulary of %d: give the prompt as -ids 1,2,3", *dir, m.Config.VocabSize)
	default:
		ids = md.Text.Encode(*prompt, true)
	}
	for _, id := range ids {
		if id < 0 || id >= m.Config.VocabSize {
			return fmt.Errorf("prompt token id %d is outside the model's vocabulary [0, %d)", id, m.Config.VocabSize)
		}
	}
	s := model.Sampling{MaxNew: *n, Temperature: float32(*temp), TopK: *topK, TopP: float32(*topP), Seed: *seed}
	if !*noStop {
		s.Stop = md.Stop
	}

	out := newPrinter(stdout, md.Text)
	for _, id := range ids {
		if err := out.emit(id); err != nil {
			return err
		}
	}
	start = time.Now()
	count := 0
	for id, err := range m.Generate(ctx, ids, s) {
		if err != nil {
			out.end()
			return err
		}
		count++
		if err := out.emit(id); err != nil {
			return err
		}
	}
	if err := out.end(); err != nil {
		return err
	}
	if *stats {
		el := time.Since(start)
		fmt.Fprintf(stderr, "%d tokens in %v (%.1f tokens/s)\n", count, el.Round(time.Millisecond), float64(count)/el.Seconds())
	}
	return nil
}

// printer writes tokens as they arrive: as text through a streaming decoder, which holds back
// an incomplete character and leaves special tokens out, or as comma-separated ids where the
// model has no tokenizer.
type printer struct {
	w   io.Writer
	dec modeldir.Stream // nil: ids
	n   int
}

func newPrinter(w io.Writer, text modeldir.Text) *printer {
	p := &printer{w: w}
	if text != nil {
		p.dec = text.Stream()
	}
	return p
}

func (p *printer) emit(id int) error {
	var s string
	if p.dec == nil {
		if p.n > 0 {
			s = ","
		}
		s += strconv.Itoa(id)
	} else {
		var err error
		if s, err = p.dec.Add(id); err != nil {
			return fmt.Errorf("decoding token %d: %w", id, err)
		}
	}
	p.n++
	_, err := io.WriteString(p.w, s)
	return err
}

// end flushes what the decoder holds back and ends the line.
func (p *printer) end() error {
	s := ""
	if p.dec != nil {
		s = p.dec.Flush()
	}
	_, err := io.WriteString(p.w, s+"\n")
	return err
}

// parseIDs reads "1,2,3" (spaces allowed).
func parseIDs(s string) ([]int, error) {
	var ids []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("-ids: %q is not a token id", f)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, errors.New("-ids: no token ids")
	}
	return ids, nil
}
