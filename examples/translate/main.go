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
// cross-attention shows where it looked.
//
// It prints a progress line as it trains, then the exact-match accuracy of greedy decoding on
// held-out dates, then the translations of -text. -save writes config.json and model.safetensors
// in the layout of PyTorch's nn.Transformer (model.LoadTransformer reads it back).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

type options struct {
	steps, batch       int
	dModel, nHead, ff  int
	encLayers          int
	decLayers          int
	normFirst          bool
	lr                 float64
	warmup             int
	evalN              int
	seed               uint64
	threads            int
	logEvery           int
	reverse            bool
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
	fs.IntVar(&o.steps, "steps", 1000, "training steps")
	fs.IntVar(&o.batch, "batch", 64, "examples per step")
	fs.IntVar(&o.dModel, "d-model", 64, "model width")
	fs.IntVar(&o.nHead, "heads", 4, "attention heads")
	fs.IntVar(&o.ff, "ff", 128, "feed-forward width")
	fs.IntVar(&o.encLayers, "enc-layers", 2, "encoder layers")
	fs.IntVar(&o.decLayers, "dec-layers", 2, "decoder layers")
	fs.BoolVar(&o.normFirst, "norm-first", false, "pre-LN layers instead of the paper's post-LN")
	fs.Float64Var(&o.lr, "lr", 2e-3, "peak learning rate (AdamW, warmup then cosine decay)")
	fs.IntVar(&o.warmup, "warmup", 100, "warmup steps")
	fs.IntVar(&o.evalN, "eval", 1000, "held-out examples to evaluate on")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the weights and the data")
	fs.IntVar(&o.threads, "threads", 0, "worker goroutines for the kernels (0: GOMAXPROCS)")
	fs.IntVar(&o.logEvery, "log-every", 100, "steps between progress lines")
	fs.BoolVar(&o.reverse, "reverse", false, "translate ISO dates into words instead")
	fs.IntVar(&o.beam, "beam", 1, "beam size for -text (1: greedy)")
	fs.Var((*stringList)(&o.texts), "text", "a date to translate (repeatable)")
	fs.StringVar(&o.attn, "attn", "", "write a PNG of the cross-attention of the first -text (or an example) to this file")
	fs.StringVar(&o.save, "save", "", "save the trained model to this directory (PyTorch nn.Transformer layout)")
	fs.IntVar(&o.printExampleErrors, "show-errors", 5, "held-out mistakes to print")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.steps < 0 || o.batch <= 0 || o.evalN < 0 || o.logEvery <= 0 || o.beam < 1 {
		return nil, errors.New("-steps and -eval must be >= 0, -batch, -log-every and -beam positive")
	}
	return o, nil
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
	v := newVocab()
	cfg := model.TransformerConfig{
		SrcVocabSize: len(v.tokens), TgtVocabSize: len(v.tokens),
		DModel: o.dModel, NHead: o.nHead, NumEncoderLayers: o.encLayers, NumDecoderLayers: o.decLayers,
		DimFeedforward: o.ff, Activation: "relu", NormFirst: o.normFirst, MaxLen: 32,
		PadID: padID, BosID: bosID, EosID: eosID,
	}
	m, err := model.NewTransformer(cfg, o.seed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "a %d-parameter Transformer (%d+%d layers, %d wide, %d heads), vocabulary of %d tokens\n",
		m.NumParams(), o.encLayers, o.decLayers, o.dModel, o.nHead, len(v.tokens))
	res := &result{}
	res.finalLoss, res.trainSeconds = train(m, v, o, stdout)

	ctx := context.Background()
	if o.evalN > 0 {
		res.accuracy, err = evaluate(ctx, m, v, o, stdout)
		if err != nil {
			return nil, err
		}
	}
	for _, text := range o.texts {
		out, err := translate(ctx, m, v, text, o.beam)
		if err != nil {
			return nil, err
		}
		res.translations = append(res.translations, out)
		fmt.Fprintf(stdout, "%s → %s\n", text, out)
	}
	if o.attn != "" {
		text := "the 3rd of july 1987"
		if o.reverse {
			text = "1987-07-03"
		}
		if len(o.texts) > 0 {
			text = o.texts[0]
		}
		if err := plotAttention(ctx, m, v, text, o.attn); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "cross-attention of %q written to %s\n", text, o.attn)
	}
	if o.save != "" {
		if err := model.SaveTransformer(m, o.save); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "model saved to %s\n", o.save)
	}
	return res, nil
}

// train runs o.steps AdamW steps and returns the last loss and the time taken.
func train(m *model.Transformer, v *vocab, o *options, stdout io.Writer) (float64, float64) {
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: float32(o.lr), Betas: [2]float32{0.9, 0.98}, WeightDecay: 0.01})
	sched := optim.CosineSchedule{WarmupIters: o.warmup, DecayIters: o.steps, MaxLR: float32(o.lr), MinLR: float32(o.lr / 20)}
	data := newSampler(v, o.seed, o.reverse, false)
	exs := make([]example, o.batch)
	start := time.Now()
	last := time.Now()
	var loss float64
	for step := range o.steps {
		for i := range exs {
			exs[i] = data.next()
		}
		bt := makeBatch(exs)
		l, err := m.Loss(bt.src, bt.tgtIn, bt.tgtOut, bt.b)
		if err != nil {
			panic(err) // the batches are well formed by construction
		}
		l.Backward()
		loss = float64(l.Item())
		optim.ClipGradNorm(m.Parameters(), 1)
		opt.SetLR(sched.LR(step))
		opt.Step()
		opt.ZeroGrad()
		autograd.Release(l)
		if (step+1)%o.logEvery == 0 || step+1 == o.steps {
			now := time.Now()
			n := (step)%o.logEvery + 1
			fmt.Fprintf(stdout, "step %5d/%d  loss %.4f  lr %.2e  %.1f ms/step  %.1fs\n", step+1, o.steps, loss,
				sched.LR(step), float64(now.Sub(last).Microseconds())/1000/float64(n), now.Sub(start).Seconds())
			last = now
		}
	}
	secs := time.Since(start).Seconds()
	if o.steps > 0 {
		fmt.Fprintf(stdout, "trained %d steps in %.1fs\n", o.steps, secs)
	}
	return loss, secs
}

// evaluate decodes o.evalN held-out examples greedily and returns the fraction translated
// exactly.
func evaluate(ctx context.Context, m *model.Transformer, v *vocab, o *options, stdout io.Writer) (float64, error) {
	data := newSampler(v, o.seed+1, o.reverse, true)
	const chunk = 250
	right, shown := 0, 0
	for lo := 0; lo < o.evalN; lo += chunk {
		exs := make([]example, min(chunk, o.evalN-lo))
		srcs := make([][]int, len(exs))
		for i := range exs {
			exs[i] = data.next()
			srcs[i] = exs[i].src
		}
		hyps, err := m.Translate(ctx, srcs, model.Decoding{MaxNew: 16})
		if err != nil {
			return 0, err
		}
		for i, h := range hyps {
			got := v.decode(h.Tokens)
			if h.Ended && got == exs[i].tgtText {
				right++
			} else if shown < o.printExampleErrors {
				fmt.Fprintf(stdout, "  miss: %s → %s (want %s)\n", exs[i].srcText, got, exs[i].tgtText)
				shown++
			}
		}
	}
	acc := float64(right) / float64(o.evalN)
	fmt.Fprintf(stdout, "held-out exact match: %d/%d = %.2f%%\n", right, o.evalN, 100*acc)
	return acc, nil
}

func translate(ctx context.Context, m *model.Transformer, v *vocab, text string, beam int) (string, error) {
	ids, err := v.encode(text)
	if err != nil {
		return "", err
	}
	hyps, err := m.Translate(ctx, [][]int{ids}, model.Decoding{MaxNew: 16, Beam: beam, LengthPenalty: 1})
	if err != nil {
		return "", err
	}
	return v.decode(hyps[0].Tokens), nil
}
