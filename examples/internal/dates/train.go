package dates

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// Config sizes a model for the task and says how to train it.
type Config struct {
	Steps, Batch      int // AdamW steps, examples per step
	DModel, NHead, FF int // width, heads, feed-forward width
	EncLayers         int
	DecLayers         int
	NormFirst         bool    // pre-LN layers instead of the paper's post-LN
	LR                float64 // peak learning rate: warmup, then cosine decay to LR/20
	Warmup            int     // warmup steps
	Seed              uint64  // of the weights and the training data
	Reverse           bool    // translate ISO dates into words instead
	LogEvery          int     // steps between progress lines; 0: none
}

// Model returns the Transformer configuration of c over v.
func (c Config) Model(v *Vocab) model.TransformerConfig {
	return model.TransformerConfig{
		SrcVocabSize: v.Size(), TgtVocabSize: v.Size(),
		DModel: c.DModel, NHead: c.NHead, NumEncoderLayers: c.EncLayers, NumDecoderLayers: c.DecLayers,
		DimFeedforward: c.FF, Activation: "relu", NormFirst: c.NormFirst, MaxLen: 32,
		PadID: PadID, BosID: BosID, EosID: EosID,
	}
}

// Trained is what a training run measured.
type Trained struct {
	Losses  []float64 // every step's
	Seconds float64
}

// FinalLoss returns the last step's loss (0 when none ran).
func (t Trained) FinalLoss() float64 {
	if len(t.Losses) == 0 {
		return 0
	}
	return t.Losses[len(t.Losses)-1]
}

// Validate reports every setting of c out of range, named as examples/translate's flags.
func (c Config) Validate() error {
	var ch trainloop.Checks
	f := trainloop.Int
	ch.NonNegative(f("-steps", c.Steps), f("-warmup", c.Warmup), f("-log-every", c.LogEvery))
	ch.Positive(f("-batch", c.Batch), f("-d-model", c.DModel), f("-heads", c.NHead), f("-ff", c.FF),
		f("-enc-layers", c.EncLayers), f("-dec-layers", c.DecLayers))
	ch.LR("-lr", c.LR)
	return ch.Err()
}

// Train runs cfg.Steps AdamW steps on batches of training dates with the step every example
// shares (trainloop.Stepper: clipping at 1, warmup then cosine decay), printing a progress line
// to w every cfg.LogEvery steps. It stops with ctx's error when ctx ends, and with an error
// wrapping trainloop.ErrDiverged, before the optimizer step, at a loss or gradient that is not
// finite.
func Train(ctx context.Context, m *model.Transformer, v *Vocab, cfg Config, w io.Writer) (Trained, error) {
	if err := cfg.Validate(); err != nil {
		return Trained{}, err
	}
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: float32(cfg.LR), Betas: [2]float32{0.9, 0.98}, WeightDecay: 0.01})
	sched := optim.CosineSchedule{WarmupIters: cfg.Warmup, DecayIters: cfg.Steps, MaxLR: float32(cfg.LR), MinLR: float32(cfg.LR / 20)}
	st := trainloop.Stepper{Opt: opt, Schedule: sched, Clip: 1}
	data := NewSampler(v, cfg.Seed, cfg.Reverse, false)
	exs := make([]Example, cfg.Batch)
	start, last := time.Now(), time.Now()
	var out Trained
	for step := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		l, err := st.Step(step, func(int) (*autograd.Var, error) {
			for i := range exs {
				exs[i] = data.Next()
			}
			bt := MakeBatch(exs)
			return m.Loss(bt.Src, bt.TgtIn, bt.TgtOut, bt.B)
		})
		if err != nil {
			return out, err
		}
		out.Losses = append(out.Losses, float64(l))
		if cfg.LogEvery > 0 && ((step+1)%cfg.LogEvery == 0 || step+1 == cfg.Steps) {
			now := time.Now()
			n := step%cfg.LogEvery + 1
			fmt.Fprintf(w, "step %5d/%d  loss %.4f  lr %.2e  %.1f ms/step  %.1fs\n", step+1, cfg.Steps, out.FinalLoss(),
				sched.LR(step), float64(now.Sub(last).Microseconds())/1000/float64(n), now.Sub(start).Seconds())
			last = now
		}
	}
	out.Seconds = time.Since(start).Seconds()
	return out, nil
}

// Eval says which held-out dates Evaluate translates.
type Eval struct {
	N         int    // examples
	Seed      uint64 // of the draw
	Reverse   bool
	MaxMisses int // mistakes to keep, for showing
}

// Miss is a held-out example translated wrongly.
type Miss struct {
	Example
	Got string
}

// Evaluated is the outcome of Evaluate.
type Evaluated struct {
	Right, N int
	Misses   []Miss // the first MaxMisses
}

// Accuracy is the fraction translated exactly.
func (e Evaluated) Accuracy() float64 {
	if e.N == 0 {
		return 0
	}
	return float64(e.Right) / float64(e.N)
}

// Evaluate decodes ev.N held-out examples greedily and counts those translated exactly.
func Evaluate(ctx context.Context, m *model.Transformer, v *Vocab, ev Eval) (Evaluated, error) {
	data := NewSampler(v, ev.Seed, ev.Reverse, true)
	const chunk = 250
	out := Evaluated{N: ev.N}
	for lo := 0; lo < ev.N; lo += chunk {
		exs := make([]Example, min(chunk, ev.N-lo))
		srcs := make([][]int, len(exs))
		for i := range exs {
			exs[i] = data.Next()
			srcs[i] = exs[i].Src
		}
		hyps, err := m.Translate(ctx, srcs, model.Decoding{MaxNew: 16})
		if err != nil {
			return out, err
		}
		for i, h := range hyps {
			got := v.Decode(h.Tokens)
			if h.Ended && got == exs[i].TgtText {
				out.Right++
			} else if len(out.Misses) < ev.MaxMisses {
				out.Misses = append(out.Misses, Miss{exs[i], got})
			}
		}
	}
	return out, nil
}

// Translate translates text, greedily (beam 1) or with a beam of that size.
func Translate(ctx context.Context, m *model.Transformer, v *Vocab, text string, beam int) (string, error) {
	ids, err := v.Encode(text)
	if err != nil {
		return "", err
	}
	hyps, err := m.Translate(ctx, [][]int{ids}, model.Decoding{MaxNew: 16, Beam: beam, LengthPenalty: 1})
	if err != nil {
		return "", err
	}
	return v.Decode(hyps[0].Tokens), nil
}
