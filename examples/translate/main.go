// Command translate trains the encoder–decoder Transformer of "Attention Is All You Need" to
// translate dates written by people into ISO 8601, in about a minute on two CPU cores:
//
//	go run ./examples/translate                                 # train, report held-out accuracy
//	go run ./examples/translate -text "the 3rd of july 1987" -text "july 4, 1776"
//	go run ./examples/translate -attn attention.png             # plot the cross-attention of one example
//	go run ./examples/translate -reverse -text 1987-07-03       # ISO back to "3 july 1987"
//	go run ./examples/translate -save model -text "may 5, 2020" # save a PyTorch-layout directory
//
// The parallel data is generated in code: every date from 1900 to 2099 in four human formats
// ("3 july 1987", "july 3, 1987", "the 3rd of july 1987", "03/07/1987"), one date in 20 held
// out for evaluation. The year moves from the end to the front and month names become digits,
// so the decoder has to look up each output token in the source by content: the plot of its
// cross-attention shows where it looked. The task (data, vocabulary, training loop, evaluation,
// the cross-attention picture) lives in internal/dates, which step 11 of examples/lessons
// shares.
//
// It prints a progress line as it trains, then the exact-match accuracy of greedy decoding on
// held-out dates, then the translations of -text. -save writes config.json and model.safetensors
// in the layout of PyTorch's nn.Transformer (model.LoadTransformer reads it back), and vocab.json,
// the token list (examples/explore -seq2seq DIR reads both).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goformer/goformer/examples/internal/dates"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tensor"
)

type options struct {
	dates.Config
	evalN              int
	threads            int
	beam               int
	texts              []string
	attn               string
	save               string
	printExampleErrors int
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, "; ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Steps, "steps", 1000, "training steps")
	fs.IntVar(&o.Batch, "batch", 64, "examples per step")
	fs.IntVar(&o.DModel, "d-model", 64, "model width")
	fs.IntVar(&o.NHead, "heads", 4, "attention heads")
	fs.IntVar(&o.FF, "ff", 128, "feed-forward width")
	fs.IntVar(&o.EncLayers, "enc-layers", 2, "encoder layers")
	fs.IntVar(&o.DecLayers, "dec-layers", 2, "decoder layers")
	fs.BoolVar(&o.NormFirst, "norm-first", false, "pre-LN layers instead of the paper's post-LN")
	fs.Float64Var(&o.LR, "lr", 2e-3, "peak learning rate (AdamW, warmup then cosine decay)")
	fs.IntVar(&o.Warmup, "warmup", 100, "warmup steps")
	fs.IntVar(&o.evalN, "eval", 1000, "held-out examples to evaluate on")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the weights and the data")
	fs.IntVar(&o.threads, "threads", 0, "worker goroutines for the kernels (0: GOMAXPROCS)")
	fs.IntVar(&o.LogEvery, "log-every", 100, "steps between progress lines")
	fs.BoolVar(&o.Reverse, "reverse", false, "translate ISO dates into words instead")
	fs.IntVar(&o.beam, "beam", 1, "beam size for -text (1: greedy)")
	fs.Var((*stringList)(&o.texts), "text", "a date to translate (repeatable)")
	fs.StringVar(&o.attn, "attn", "", "write a PNG of the cross-attention of the first -text (or an example) to this file")
	fs.StringVar(&o.save, "save", "", "save the trained model to this directory (PyTorch nn.Transformer layout, and vocab.json)")
	fs.IntVar(&o.printExampleErrors, "show-errors", 5, "held-out mistakes to print")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var c trainloop.Checks
	f := trainloop.Int
	c.NonNegative(f("-eval", o.evalN), f("-threads", o.threads), f("-show-errors", o.printExampleErrors))
	c.Positive(f("-log-every", o.LogEvery), f("-beam", o.beam))
	return o, errors.Join(o.Config.Validate(), c.Err())
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "translate:", err)
		}
		os.Exit(1)
	}
}

// result is what a run measured, for tests.
type result struct {
	accuracy     float64
	trainSeconds float64
	translations []string
	finalLoss    float64
}

func run(args []string, stdout, stderr io.Writer) error {
	_, err := runResult(args, stdout, stderr)
	return err
}

func runResult(args []string, stdout, stderr io.Writer) (*result, error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	if o.threads > 0 {
		tensor.SetWorkers(o.threads)
	}
	v := dates.NewVocab()
	m, err := model.NewTransformer(o.Model(v), o.Seed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "a %d-parameter Transformer (%d+%d layers, %d wide, %d heads), vocabulary of %d tokens\n",
		m.NumParams(), o.EncLayers, o.DecLayers, o.DModel, o.NHead, v.Size())
	ctx := context.Background()
	tr, err := dates.Train(ctx, m, v, o.Config, stdout)
	if err != nil {
		return nil, err
	}
	res := &result{finalLoss: tr.FinalLoss(), trainSeconds: tr.Seconds}
	if o.Steps > 0 {
		fmt.Fprintf(stdout, "trained %d steps in %.1fs\n", o.Steps, tr.Seconds)
	}
	if o.evalN > 0 {
		ev, err := dates.Evaluate(ctx, m, v, dates.Eval{N: o.evalN, Seed: o.Seed + 1, Reverse: o.Reverse, MaxMisses: o.printExampleErrors})
		if err != nil {
			return nil, err
		}
		for _, miss := range ev.Misses {
			fmt.Fprintf(stdout, "  miss: %s → %s (want %s)\n", miss.SrcText, miss.Got, miss.TgtText)
		}
		res.accuracy = ev.Accuracy()
		fmt.Fprintf(stdout, "held-out exact match: %d/%d = %.2f%%\n", ev.Right, ev.N, 100*ev.Accuracy())
	}
	for _, text := range o.texts {
		out, err := dates.Translate(ctx, m, v, text, o.beam)
		if err != nil {
			return nil, err
		}
		res.translations = append(res.translations, out)
		fmt.Fprintf(stdout, "%s → %s\n", text, out)
	}
	if o.attn != "" {
		text := "the 3rd of july 1987"
		if o.Reverse {
			text = "1987-07-03"
		}
		if len(o.texts) > 0 {
			text = o.texts[0]
		}
		a, err := dates.Align(ctx, m, v, text)
		if err != nil {
			return nil, err
		}
		layer := len(a.Cross) - 1
		title := fmt.Sprintf("Cross-attention of decoder layer %d of %d: %q → %q", layer+1, len(a.Cross), text, v.Decode(a.Hyp.Tokens))
		if err := a.Plot(o.attn, v, layer, title); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "cross-attention of %q written to %s\n", text, o.attn)
	}
	if o.save != "" {
		err := trainloop.SaveFinite(m.Parameters(), func() error {
			if err := model.SaveTransformer(m, o.save); err != nil {
				return err
			}
			return dates.SaveVocab(o.save, v)
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "model saved to %s\n", o.save)
	}
	return res, nil
}
