package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// trainConfig is the part of the options that the training loop needs.
type trainConfig struct {
	BatchSize, BlockSize int
	MaxIters             int
	EvalInterval         int // evaluate (and checkpoint) every EvalInterval iterations; 0: only at the end
	EvalIters            int // batches per split in an evaluation; 0: no evaluation
	LogInterval          int // iterations between progress lines
	GradClip             float32
	GradAccum            int // micro-batches per optimizer step, each of BatchSize rows (1: none)
	Schedule             optim.CosineSchedule
}

// trainer runs the training loop of one model.
type trainer struct {
	cfg  trainConfig
	m    *model.GPT
	opt  optim.Optimizer
	data *dataset
	// windows draws the training batches' window starts; its generator is saved in checkpoints
	windows windowSource
	eval    map[string][]batch
	// save writes a checkpoint saying that step iterations are done; nil saves nothing.
	save func(step int) error
	log  *progress

	iterTimes []time.Duration // one per iteration run, evaluation and saving excluded
	lastLoss  float32

	// for -plot: the loss of every iteration run and every evaluation, by iteration
	iterLosses []iterLoss
	evals      []evalAt
}

// iterLoss is the training loss of iteration it (counting from 1).
type iterLoss struct {
	it   int
	loss float32
}

// evalAt is an evaluation after it iterations.
type evalAt struct {
	it int
	losses
}

// losses are the mean losses over the evaluation batches of each split.
type losses struct{ Train, Val float64 }

// evaluate returns the mean loss of each split over its fixed evaluation batches, on a frozen
// view of the model (evaluation mode, constant parameters: no dropout and no graph).
func (tr *trainer) evaluate() (losses, error) {
	frozen := tr.m.Frozen()
	var out losses
	var err error
	if out.Train, err = tr.meanLoss(frozen, "train"); err != nil {
		return losses{}, err
	}
	if out.Val, err = tr.meanLoss(frozen, "val"); err != nil {
		return losses{}, err
	}
	return out, nil
}

// meanLoss returns the mean loss of m (a frozen or compact view) over split's evaluation
// batches, accumulated in float64.
func (tr *trainer) meanLoss(m *model.GPT, split string) (float64, error) {
	sum := 0.0
	for _, b := range tr.eval[split] {
		l, err := m.Loss(b.x, b.y, tr.cfg.BatchSize, tr.cfg.BlockSize)
		if err != nil {
			return 0, err
		}
		sum += float64(l.Item())
	}
	mean := sum / float64(len(tr.eval[split]))
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return 0, fmt.Errorf("the %s loss is %v: the weights have diverged; the last checkpoint is left as it was (try a lower -lr)", split, mean)
	}
	return mean, nil
}

// step runs training iteration it with the step every example shares (trainloop.Stepper):
// GradAccum micro-batches, each sampled, run forward and backward with its loss scaled by
// 1/GradAccum (so the gradients add up to those of the mean loss, as in nanoGPT), the divergence
// guard, clipping, and an optimizer step at the scheduled learning rate.
func (tr *trainer) step(it int) error {
	st := trainloop.Stepper{Opt: tr.opt, Schedule: tr.cfg.Schedule, Clip: tr.cfg.GradClip, Accum: tr.cfg.GradAccum}
	loss, err := st.Step(it, func(int) (*autograd.Var, error) {
		b := sampleBatch(tr.data.train, tr.cfg.BatchSize, tr.cfg.BlockSize, tr.windows)
		return tr.m.Loss(b.x, b.y, tr.cfg.BatchSize, tr.cfg.BlockSize)
	})
	if errors.Is(err, trainloop.ErrDiverged) {
		return fmt.Errorf("%w; the last checkpoint is left as it was (-lr is %v)", err, tr.cfg.Schedule.MaxLR)
	}
	if err != nil {
		return err
	}
	tr.lastLoss = loss
	return nil
}

// run trains from iteration start to cfg.MaxIters (start ≤ MaxIters), evaluating and
// checkpointing every EvalInterval iterations and at the end, and returns the final evaluation
// (zero without EvalIters). It saves only after training: from start = MaxIters it evaluates and
// saves nothing. When ctx is cancelled it saves a checkpoint at the iteration reached and returns
// ctx's error.
func (tr *trainer) run(ctx context.Context, start int) (losses, error) {
	evalOn := tr.cfg.EvalIters > 0
	began := time.Now()
	for it := start; it < tr.cfg.MaxIters; it++ {
		if ctx.Err() != nil {
			tr.log.flush()
			if tr.save != nil && it > start {
				if err := tr.save(it); err != nil {
					return losses{}, fmt.Errorf("interrupted, and saving a checkpoint failed: %w", err)
				}
			}
			return losses{}, fmt.Errorf("interrupted at iteration %d: %w", it, ctx.Err())
		}
		if evalOn && tr.cfg.EvalInterval > 0 && it%tr.cfg.EvalInterval == 0 {
			l, err := tr.evaluate()
			if err != nil {
				return losses{}, err
			}
			tr.log.linef("eval iter %d: train loss %.4f, val loss %.4f", it, l.Train, l.Val)
			tr.evals = append(tr.evals, evalAt{it, l})
			if tr.save != nil && it > start {
				if err := tr.save(it); err != nil {
					return losses{}, err
				}
			}
		}
		t0 := time.Now()
		if err := tr.step(it); err != nil {
			return losses{}, err
		}
		tr.iterTimes = append(tr.iterTimes, time.Since(t0))
		tr.iterLosses = append(tr.iterLosses, iterLoss{it + 1, tr.lastLoss})
		if done := it + 1; done%tr.cfg.LogInterval == 0 || done == tr.cfg.MaxIters {
			tr.report(done, time.Since(began))
		}
	}
	tr.log.flush()
	var final losses
	if evalOn {
		var err error
		if final, err = tr.evaluate(); err != nil {
			return losses{}, err
		}
		tr.log.linef("final eval after %d iterations: train loss %.4f, val loss %.4f", tr.cfg.MaxIters, final.Train, final.Val)
		tr.evals = append(tr.evals, evalAt{tr.cfg.MaxIters, final})
	}
	if tr.save != nil && tr.cfg.MaxIters > start { // with nothing trained, the checkpoint is as it was
		if err := tr.save(tr.cfg.MaxIters); err != nil {
			return losses{}, err
		}
	}
	return final, nil
}

// report prints the progress line after done iterations: the last loss, the speed over the
// recent iterations and the time left at that speed (evaluations not counted).
func (tr *trainer) report(done int, elapsed time.Duration) {
	recent := tr.iterTimes[max(0, len(tr.iterTimes)-tr.cfg.LogInterval):]
	var sum time.Duration
	for _, d := range recent {
		sum += d
	}
	per := sum / time.Duration(max(1, len(recent)))
	tokens := float64(max(1, tr.cfg.GradAccum)*tr.cfg.BatchSize*tr.cfg.BlockSize) / per.Seconds()
	eta := per * time.Duration(tr.cfg.MaxIters-done)
	tr.log.statusf("iter %d/%d | loss %.4f | lr %.2e | %.1f ms/iter | %.0f tokens/s | elapsed %s | ETA %s",
		done, tr.cfg.MaxIters, tr.lastLoss, tr.opt.LR(), float64(per.Microseconds())/1000, tokens,
		elapsed.Round(time.Second), eta.Round(time.Second))
}

// medianIter returns the median iteration time, leaving out the first warm-up iterations (as the
// PyTorch reference does) when enough remain.
func (tr *trainer) medianIter(warmup int) time.Duration {
	ts := tr.iterTimes
	if len(ts) > 2*warmup {
		ts = ts[warmup:]
	}
	if len(ts) == 0 {
		return 0
	}
	ts = slices.Clone(ts)
	slices.Sort(ts)
	if len(ts)%2 == 1 {
		return ts[len(ts)/2]
	}
	return (ts[len(ts)/2-1] + ts[len(ts)/2]) / 2
}

// progress prints log lines and a status line: on a terminal the status line is rewritten in place
// with \r, elsewhere (a file, a pipe) each status is a line of its own.
type progress struct {
	w       io.Writer
	tty     bool
	pending int // length of the status line on screen, 0 if none
}

func (p *progress) statusf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !p.tty {
		fmt.Fprintln(p.w, s)
		return
	}
	pad := ""
	if n := p.pending - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+s+pad)
	p.pending = len(s)
}

// linef prints a line of its own, below any status line.
func (p *progress) linef(format string, args ...any) {
	p.flush()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// flush ends the status line, if one is on screen.
func (p *progress) flush() {
	if p.pending > 0 {
		fmt.Fprintln(p.w)
		p.pending = 0
	}
}
