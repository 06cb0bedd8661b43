package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer"
)

// loadCheckpoint reads the checkpoint that examples/shakespeare saved in dir: the model and its
// character vocabulary. It is the lessons' only use of checkpoints.
func loadCheckpoint(dir string) (*model.GPT, *tokenizer.Char, error) {
	ck, err := checkpoint.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	if kind := ck.Meta["tokenizer"]; kind != "" && kind != "char" {
		return nil, nil, fmt.Errorf("the checkpoint in %s was trained on %s tokens; this step reads character-level ones (examples/shakespeare's default)", dir, kind)
	}
	tok, err := tokenizer.CharFromVocab(ck.Meta["vocab"])
	if err != nil {
		return nil, nil, fmt.Errorf("the checkpoint in %s: %w", dir, err)
	}
	m, err := ck.GPT()
	if err != nil {
		return nil, nil, err
	}
	if tok.VocabSize() != m.Config.VocabSize {
		return nil, nil, fmt.Errorf("the checkpoint in %s has %d characters for a model of %d tokens", dir, tok.VocabSize(), m.Config.VocabSize)
	}
	return m, tok, nil
}

// gptSetup is step 10's GPT and training plan: the biggest of the lessons, about 20 seconds of
// CPU time.
func gptSetup(tiny bool) (model.Config, plan, int) {
	cfg := model.Config{BlockSize: 64, NLayer: 3, NHead: 4, NEmbd: 64}
	p := plan{steps: 600, batch: 12, lr: 4e-3}
	evalEvery := 100
	if tiny {
		cfg.NLayer, cfg.NEmbd, cfg.BlockSize = 1, 32, 32
		p.steps, p.batch, evalEvery = 40, 8, 20
	}
	return cfg, p, evalEvery
}

// gptLesson: all of it together.
func gptLesson(ctx context.Context, e *env) error {
	e.para(`A GPT is all the steps together. Text becomes token ids (step 2); each id picks its vector
		(step 4) and gets its position's vector added (step 9); a stack of blocks (step 7), each one
		multi-head attention (steps 6 and 8) and a small network of neurons (step 1) with residual
		connections and layer norms, turns the vectors into scores for the next token; softmax makes
		them probabilities, and training plays the guessing game (step 3) on the whole text. To write,
		it picks a next token, adds it, and guesses again.`)
	e.printf("Code: model/gpt.go (the model, described once: build), model/generate.go (writing), optim/adamw.go and optim/schedule.go (training), examples/shakespeare (the full training program).\n\n")

	var m *model.GPT
	var tok *tokenizer.Char
	if e.ckpt != "" {
		var err error
		if m, tok, err = loadCheckpoint(e.ckpt); err != nil {
			return err
		}
		c := m.Config
		e.printf("Loaded the GPT that examples/shakespeare trained, from %s: %d layers, %d heads, %d wide, context %d, %d parameters.\n",
			e.ckpt, c.NLayer, c.NHead, c.NEmbd, c.BlockSize, m.NumParams())
		if tok.Vocab() == tokenizer.NewChar(shakespeare).Vocab() {
			ids := tok.Encode(shakespeare)
			val := ids[len(ids)*9/10:]
			l, err := meanLoss(m, val[:min(len(val), 20*c.BlockSize+1)])
			if err != nil {
				return err
			}
			e.printf("Its loss on the first %d characters of the validation text: %.3f.\n", min(len(val)-1, 20*c.BlockSize), l)
		}
		e.printf("\n")
	} else {
		cfg, p, evalEvery := gptSetup(e.tiny)
		cm, curve, err := trainWithEvals(ctx, e, cfg, p, evalEvery)
		if err != nil {
			return err
		}
		m, tok = cm.m, cm.tok
		if path := e.picture("gpt-loss.png"); path != "" {
			x, y := seriesOf(cm.losses)
			if err := plots.Lines(path, plots.Labels{Title: "Training a GPT on Tiny Shakespeare", X: "training step", Y: "loss (cross-entropy)"},
				plots.Series{Name: "training batches", X: x, Y: y},
				plots.Series{Name: "validation text", X: curve.steps, Y: curve.val}); err != nil {
				return err
			}
			e.drew(path, "the loss on the training batches and on text the model never trains on")
		}
		e.printf("\n")
	}

	if path := e.picture("gpt-structure.png"); path != "" {
		c := m.Config
		title := fmt.Sprintf("The GPT of this step: %d layers, %d heads, C = %d, %d parameters", c.NLayer, c.NHead, c.NEmbd, m.NumParams())
		if err := drawGPT(path, m, title); err != nil {
			return err
		}
		e.drew(path, "the blueprint of this very GPT, from its configuration: what each part is and how many weights it holds")
	}

	sampling := model.Sampling{MaxNew: 400, Temperature: 0.8, TopK: 40, Seed: e.seed}
	if e.tiny {
		sampling.MaxNew = 40
	}
	e.para(fmt.Sprintf(`It writes %d characters, starting from a new line, picking each next character at random
		by its probability (sharpened: temperature %.1f, only the %d most likely):`, sampling.MaxNew, sampling.Temperature, sampling.TopK))
	text, err := sample(ctx, m, tok, "\n", sampling)
	if err != nil {
		return err
	}
	e.printf("----------\n%s\n----------\n\n", strings.Trim(text, "\n"))
	e.para(`Not Shakespeare, but the shape is there: names in capitals before speeches, line breaks, words
		that are mostly words. examples/shakespeare trains a bigger GPT the same way for a minute and
		writes better (go run ./examples/shakespeare, then this step with -ckpt out-shakespeare). The
		next step of the story, the Transformer's encoder and decoder for translation, comes with that
		model in the library.`)
	return nil
}

// evalCurve is the validation loss at some training steps.
type evalCurve struct {
	steps, val []float64
}

// trainWithEvals trains a GPT of cfg on Tiny Shakespeare's characters, measuring the loss on the
// validation text (the last tenth, never trained on) every evalEvery steps.
func trainWithEvals(ctx context.Context, e *env, cfg model.Config, p plan, evalEvery int) (*charModel, evalCurve, error) {
	var curve evalCurve
	tok := tokenizer.NewChar(shakespeare)
	ids := tok.Encode(shakespeare)
	n := len(ids) * 9 / 10
	train, val := ids[:n], ids[n:]
	// a fixed sample of validation windows, the same at every evaluation
	rng := rand.New(rand.NewPCG(e.seed, 12))
	var valWindows [][]int
	for range 8 {
		i := rng.IntN(len(val) - cfg.BlockSize - 1)
		valWindows = append(valWindows, val[i:i+cfg.BlockSize+1])
	}
	evaluate := func(m *model.GPT, step int) error {
		sum := 0.0
		for _, w := range valWindows {
			l, err := meanLoss(m, w)
			if err != nil {
				return err
			}
			sum += l
		}
		l := sum / float64(len(valWindows))
		curve.steps, curve.val = append(curve.steps, float64(step)), append(curve.val, l)
		e.printf("  step %4d/%d: validation loss %.3f\n", step, p.steps, l)
		return nil
	}
	cfg.VocabSize = tok.VocabSize()
	m, err := model.New(cfg, e.seed)
	if err != nil {
		return nil, curve, err
	}
	e.printf("Training a GPT (%d layers, %d heads, %d wide, context %d, %d parameters) on Tiny Shakespeare,\n%d steps of %d windows, with AdamW:\n",
		cfg.NLayer, cfg.NHead, cfg.NEmbd, cfg.BlockSize, m.NumParams(), p.steps, p.batch)
	cm := &charModel{tok: tok, m: m, train: train, val: val}
	if err := evaluate(m, 0); err != nil {
		return nil, curve, err
	}
	// train in stretches of evalEvery steps, evaluating after each
	tr, err := newTrainer(e, m, train, p)
	if err != nil {
		return nil, curve, err
	}
	for tr.step < p.steps {
		losses, err := tr.run(ctx, min(evalEvery, p.steps-tr.step))
		if err != nil {
			return nil, curve, err
		}
		cm.losses = append(cm.losses, losses...)
		if err := evaluate(m, tr.step); err != nil {
			return nil, curve, err
		}
	}
	return cm, curve, nil
}
