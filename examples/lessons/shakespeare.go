package main

import (
	"context"
	"fmt"
	"time"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer"
)

// charModel is a GPT trained on the characters of a text, with what the steps show of it.
type charModel struct {
	tok        *tokenizer.Char
	m          *model.GPT
	train, val []int     // the text's ids, split 90/10
	losses     []float64 // the training loss of every step
	seconds    float64   // training time
}

// shakespeareSetup is the GPT and training plan of steps 4 and 8: small enough to train in about
// 15 seconds on two cores, big enough to learn what letters are like.
func shakespeareSetup(tiny bool) (model.Config, plan) {
	cfg := model.Config{BlockSize: 64, NLayer: 2, NHead: 4, NEmbd: 64}
	p := plan{steps: 600, batch: 16, lr: 4e-3, report: 100}
	if tiny {
		cfg.NLayer, cfg.NEmbd, cfg.BlockSize = 1, 32, 32
		p.steps, p.batch, p.report = 60, 8, 0
	}
	return cfg, p
}

// shakespeareModel trains step 4's GPT on Tiny Shakespeare, or returns the one an earlier step
// of this run trained.
func shakespeareModel(ctx context.Context, e *env) (*charModel, error) {
	if cm, ok := e.trained["shakespeare"].(*charModel); ok {
		e.printf("(Using the GPT trained on Tiny Shakespeare in step 4: %d layers, %d heads, %d wide, %d steps.)\n\n",
			cm.m.Config.NLayer, cm.m.Config.NHead, cm.m.Config.NEmbd, len(cm.losses))
		return cm, nil
	}
	cfg, p := shakespeareSetup(e.tiny)
	cm, err := trainOnText(ctx, e, shakespeare, cfg, p)
	if err != nil {
		return nil, err
	}
	e.trained["shakespeare"] = cm
	return cm, nil
}

// trainOnText trains a GPT of cfg (its VocabSize set here) on the characters of text, printing
// what it does.
func trainOnText(ctx context.Context, e *env, text string, cfg model.Config, p plan) (*charModel, error) {
	tok := tokenizer.NewChar(text)
	ids := tok.Encode(text)
	n := len(ids) * 9 / 10
	cm := &charModel{tok: tok, train: ids[:n], val: ids[n:]}
	cfg.VocabSize = tok.VocabSize()
	m, err := model.New(cfg, e.seed)
	if err != nil {
		return nil, err
	}
	cm.m = m
	e.printf("Training a GPT (%d layers, %d heads, %d wide, %d parameters) on %d characters of Tiny Shakespeare,\n%d steps of %d windows of %d characters:\n",
		cfg.NLayer, cfg.NHead, cfg.NEmbd, m.NumParams(), len(cm.train), p.steps, p.batch, cfg.BlockSize)
	start := time.Now()
	if cm.losses, err = train(ctx, e, m, cm.train, p); err != nil {
		return nil, err
	}
	cm.seconds = time.Since(start).Seconds()
	e.printf("(%.1f s)\n\n", cm.seconds)
	return cm, nil
}

// char returns the character of id, as text.
func (cm *charModel) char(id int) string {
	s, err := cm.tok.Decode([]int{id})
	if err != nil {
		panic(fmt.Sprintf("lessons: id %d outside the vocabulary", id)) // ids come from the tokenizer
	}
	return s
}
