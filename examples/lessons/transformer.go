package main

import (
	"context"
	"fmt"

	"github.com/goformer/goformer/examples/internal/dates"
	"github.com/goformer/goformer/model"
)

// transformerExample is the date whose cross-attention step 11 prints and draws.
const transformerExample = "the 3rd of july 1987"

// transformerSetup is step 11's model and training: examples/translate's task, cut down to
// about ten seconds of CPU time (the full program trains twice as wide a batch for 1000 steps).
func transformerSetup(tiny bool, seed uint64) (dates.Config, int) {
	cfg := dates.Config{Steps: 400, Batch: 32, DModel: 64, NHead: 4, FF: 128, EncLayers: 2, DecLayers: 2,
		LR: 2e-3, Warmup: 40, Seed: seed, LogEvery: 100}
	evalN := 500
	if tiny {
		cfg.Steps, cfg.DModel, cfg.FF, cfg.EncLayers, cfg.DecLayers, cfg.LR, cfg.Warmup = 250, 32, 64, 1, 1, 3e-3, 25
		cfg.LogEvery, evalN = 125, 100
	}
	return cfg, evalN
}

// yearShare returns, for an alignment of a human date (whose last four source tokens are the
// year) into ISO (whose first four output tokens are the year), the share of layer's
// cross-attention, averaged over its heads and the year's four output digits, that falls on the
// year's four source tokens.
func yearShare(a *dates.Alignment, layer int) float64 {
	w := a.Cross[layer] // (NH, Tt, Ts)
	nh, ts := w.Dim(0), w.Dim(2)
	sum := 0.0
	for h := range nh {
		for r := range 4 {
			for s := ts - 4; s < ts; s++ {
				sum += float64(w.At(h, r, s))
			}
		}
	}
	return sum / float64(4*nh)
}

// transformerLesson: the encoder–decoder and its cross-attention.
func transformerLesson(ctx context.Context, e *env) error {
	e.para(`Everything so far was a GPT: one stack of blocks that reads a text and guesses what comes
		next. The Transformer that GPT was cut from ("Attention Is All You Need", 2017) has two stacks,
		because it was made to translate. The encoder reads the whole source sentence at once: its
		self-attention has no mask, since every word of the source is already known, so each word
		looks at all the others (like step 9's head). It turns the source into one vector per word.
		The decoder writes the translation one token at a time, exactly like a GPT: causal
		self-attention over the tokens it wrote so far. But each of its layers has one more
		attention, cross-attention, over the encoder's vectors. It is step 6's attention with one
		change: the queries come from the decoder's tokens, the keys and values from the source's
		words. So each output token asks "which source word do I need now?", and its weights say
		where it looked.`)
	e.printf("Code: model/transformer.go (the model, described once in buildTransformer; CrossAttention returns the weights drawn below), " +
		"nn/block.go (Block: NewEncoderLayer, NewDecoderLayer), nn/attention.go (Attention: the same code for self- and cross-attention), " +
		"nn/positions.go (step 9's sinusoidal table), model/transformer_decode.go (Translate: one token at a time, greedy or beam search), " +
		"internal/dates (this task: data, training, evaluation, shared with examples/translate).\n\n")

	e.para(`The task: dates as people write them, into the form a computer sorts (ISO 8601). The
		network is given no rules, only examples: dates from 1900 to 2099 in four ways of writing
		them. One date in 20 is kept aside and never shown in training, to test on. The year has to
		move from the end to the front and "july" has to become "07", so each output token must find
		its source word by what it is, not by where it is. Some training pairs:`)
	v := dates.NewVocab()
	cfg, evalN := transformerSetup(e.tiny, e.seed)
	sampler := dates.NewSampler(v, cfg.Seed, false, false)
	for range 4 {
		ex := sampler.Next()
		e.printf("  %-26s → %s\n", ex.SrcText, ex.TgtText)
	}
	e.printf("\n")

	m, err := model.NewTransformer(cfg.Model(v), cfg.Seed)
	if err != nil {
		return err
	}
	e.printf("A Transformer of %d + %d layers, %d wide, %d heads (%d numbers to learn), trained on %d batches of %d dates:\n",
		cfg.EncLayers, cfg.DecLayers, cfg.DModel, cfg.NHead, m.NumParams(), cfg.Steps, cfg.Batch)
	if path := e.picture("transformer-structure.png"); path != "" {
		title := fmt.Sprintf("The encoder–decoder of this step: %d + %d layers, %d heads, C = %d, %d parameters",
			cfg.EncLayers, cfg.DecLayers, cfg.NHead, cfg.DModel, m.NumParams())
		if err := drawTransformer(path, m, title); err != nil {
			return err
		}
		e.drew(path, "the blueprint of this very model, from its configuration: the encoder, the decoder, and the cross-attention between them")
	}
	tr, err := dates.Train(ctx, m, v, cfg, e.w)
	if err != nil {
		return err
	}
	e.printf("\n")
	ev, err := dates.Evaluate(ctx, m, v, dates.Eval{N: evalN, Seed: cfg.Seed + 1, MaxMisses: 2})
	if err != nil {
		return err
	}
	e.trained["transformer"] = m
	e.printf("On %d dates it never saw, it writes %d exactly right (%.1f%%), after %.0f seconds of training.\n",
		ev.N, ev.Right, 100*ev.Accuracy(), tr.Seconds)
	e.printf("(Guessing would be right once in %d tries: there are that many dates from %d to %d.)\n", dates.NumDates, dates.FirstYear, dates.LastYear)
	for _, miss := range ev.Misses {
		e.printf("  a mistake: %s → %s (right: %s)\n", miss.SrcText, miss.Got, miss.TgtText)
	}
	e.printf("\nIts translations of a few more:\n")
	for _, text := range []string{transformerExample, "july 4, 1976", "25 december 2024", "01/01/2000"} {
		out, err := dates.Translate(ctx, m, v, text, 1)
		if err != nil {
			return err
		}
		e.printf("  %-26s → %s\n", text, out)
	}
	e.printf("\n")

	a, err := dates.Align(ctx, m, v, transformerExample)
	if err != nil {
		return err
	}
	last := len(a.Cross) - 1
	e.para(fmt.Sprintf(`Where did it look? For %q, here is where the last decoder layer's cross-attention
		went (the average of its %d heads) while it wrote each output token: the source word it looked
		at most, and how much of its attention that word got.`, transformerExample, cfg.NHead))
	src := v.Tokens(a.Src)
	w := a.Cross[last]
	for r, id := range a.Rows {
		best, bestW := 0, -1.0
		for s := range src {
			x := 0.0
			for h := range w.Dim(0) {
				x += float64(w.At(h, r, s)) / float64(w.Dim(0))
			}
			if x > bestW {
				best, bestW = s, x
			}
		}
		e.printf("  writing %-5s looked most at %-6s (word %d of %d) %3.0f%%\n", v.Token(id), src[best], best+1, len(src), 100*bestW)
	}
	share := yearShare(a, last)
	e.printf("\n")
	e.para(fmt.Sprintf(`While writing the year's four digits, the heads gave %.0f%% of their attention to the
		year's four words at the end of the source, which are 4 of its %d words: looking everywhere
		evenly would give them %.0f%%. Nobody told the decoder where the year is; training found that
		looking there makes the next digit easy to guess.`, 100*share, len(src), 400/float64(len(src))))

	e.para(`The same design, far bigger and trained on millions of sentence pairs, translated
		between languages in 2017. GPT kept only the decoder (without cross-attention, since there is no
		source) and BERT only the encoder. examples/translate trains this model for longer (1000
		batches of 64, about a minute): it then gets every held-out date right, and -attn draws such a
		picture for any date. In the picture below each head has its panel: a dark cell in row i,
		column j means that while writing output token i, that head looked hard at source word j.`)
	if path := e.picture("transformer.png"); path != "" {
		title := fmt.Sprintf("Cross-attention of decoder layer %d of %d: %q → %q", last+1, len(a.Cross), transformerExample, v.Decode(a.Hyp.Tokens))
		if err := a.Plot(path, v, last, title); err != nil {
			return err
		}
		e.drew(path, "where each head of the last decoder layer looked while writing each output token")
	}
	return nil
}
