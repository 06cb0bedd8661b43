package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// trainConfig is what the Train view sends to start a run. Zero values take the defaults of the
// chosen text (presets).
type trainConfig struct {
	Text         string  `json:"text"`        // "shakespeare", "humpty" or "custom"
	CustomText   string  `json:"custom_text"` // the text, for "custom"
	Tokenizer    string  `json:"tokenizer"`   // "char" or "bpe"
	BPEVocab     int     `json:"bpe_vocab"`
	NLayer       int     `json:"n_layer"`
	NHead        int     `json:"n_head"`
	NEmbd        int     `json:"n_embd"`
	BlockSize    int     `json:"block_size"`
	BatchSize    int     `json:"batch_size"`
	MaxIters     int     `json:"max_iters"`
	LR           float64 `json:"lr"`
	EvalInterval int     `json:"eval_interval"`
	Seed         uint64  `json:"seed"`
}

// presets are the defaults for each text: nanoGPT's CPU run for Shakespeare (a loss below 2.0 in
// a couple of minutes on two cores), and a small model that learns the rhyme by heart.
func presets() map[string]trainConfig {
	return map[string]trainConfig{
		"shakespeare": {Text: "shakespeare", Tokenizer: "char", BPEVocab: 512, NLayer: 4, NHead: 4, NEmbd: 128, BlockSize: 64, BatchSize: 12, MaxIters: 2000, LR: 1e-3, EvalInterval: 100, Seed: 1337},
		"humpty":      {Text: "humpty", Tokenizer: "char", BPEVocab: 300, NLayer: 2, NHead: 4, NEmbd: 64, BlockSize: 48, BatchSize: 8, MaxIters: 400, LR: 3e-3, EvalInterval: 20, Seed: 1337},
		"custom":      {Text: "custom", Tokenizer: "char", BPEVocab: 512, NLayer: 4, NHead: 4, NEmbd: 128, BlockSize: 64, BatchSize: 12, MaxIters: 2000, LR: 1e-3, EvalInterval: 100, Seed: 1337},
	}
}

// Bounds on a run's size, so that one request cannot take the machine's memory or days of CPU.
const (
	maxLayers   = 8
	maxHeads    = 16
	maxEmbd     = 512
	maxBlock    = 256
	maxBatch    = 64
	maxIters    = 100000
	maxBPEVocab = 4096
	evalBatches = 8
)

// withDefaults fills c's zero fields from its text's preset and checks every field.
func (c trainConfig) withDefaults() (trainConfig, error) {
	if c.Text == "" {
		c.Text = "shakespeare"
	}
	p, ok := presets()[c.Text]
	if !ok {
		return c, badRequest("unknown text %q (want shakespeare, humpty or custom)", clip(c.Text, 40))
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Tokenizer == "" {
		c.Tokenizer = p.Tokenizer
	}
	def(&c.BPEVocab, p.BPEVocab)
	def(&c.NLayer, p.NLayer)
	def(&c.NHead, p.NHead)
	def(&c.NEmbd, p.NEmbd)
	def(&c.BlockSize, p.BlockSize)
	def(&c.BatchSize, p.BatchSize)
	def(&c.MaxIters, p.MaxIters)
	def(&c.EvalInterval, p.EvalInterval)
	if c.LR == 0 {
		c.LR = p.LR
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	inRange := func(name string, v, lo, hi int) {
		check(v >= lo && v <= hi, "%s must be in [%d, %d], got %d", name, lo, hi, v)
	}
	inRange("n_layer", c.NLayer, 1, maxLayers)
	inRange("n_head", c.NHead, 1, maxHeads)
	inRange("n_embd", c.NEmbd, 1, maxEmbd)
	inRange("block_size", c.BlockSize, 2, maxBlock)
	inRange("batch_size", c.BatchSize, 1, maxBatch)
	inRange("max_iters", c.MaxIters, 1, maxIters)
	inRange("eval_interval", c.EvalInterval, 1, maxIters)
	check(c.NHead <= 0 || c.NEmbd%c.NHead == 0, "n_embd %d is not divisible by n_head %d", c.NEmbd, c.NHead)
	check(!math.IsNaN(c.LR) && c.LR > 0 && c.LR <= 1, "lr must be in (0, 1], got %v", c.LR)
	check(c.Tokenizer == "char" || c.Tokenizer == "bpe", "tokenizer must be char or bpe, got %q", clip(c.Tokenizer, 20))
	if c.Tokenizer == "bpe" {
		inRange("bpe_vocab", c.BPEVocab, 256, maxBPEVocab)
	}
	if len(c.CustomText) > maxCustomText {
		return c, &httpError{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("custom_text is %d bytes; the limit is %d", len(c.CustomText), maxCustomText)}
	}
	if c.Text == "custom" {
		check(c.CustomText != "", "custom_text is empty: paste a text to train on")
	} else {
		check(c.CustomText == "", "custom_text is only for text \"custom\"")
	}
	if err := errors.Join(errs...); err != nil {
		return c, badRequest("%v", err)
	}
	return c, nil
}

// The states of a training run.
const (
	stateNone     = "none"     // no run yet
	stateRunning  = "running"  // training
	stateStopped  = "stopped"  // paused by Stop: Resume continues
	stateFinished = "finished" // reached max_iters
	stateDiverged = "diverged" // a loss or gradient was not finite: stopped before the step
	stateFailed   = "failed"   // an unexpected error
)

// trainStatus is the Train view's state: GET /api/train sends it whole, the event stream sends
// what changed (LossFrom and EvalsFrom say where its Loss and Evals start).
type trainStatus struct {
	Run        int          `json:"run"` // 0 before the first run; each Start makes a new one
	State      string       `json:"state"`
	Message    string       `json:"message"`
	Config     *trainConfig `json:"config,omitempty"`
	Title      string       `json:"title"` // of the text
	Tokens     int          `json:"tokens"`
	Params     int          `json:"params"`
	ValIsTrain bool         `json:"val_is_train"`
	Step       int          `json:"step"`
	MaxIters   int          `json:"max_iters"`
	MsPerIter  float64      `json:"ms_per_iter"`
	LR         float64      `json:"lr"`
	Loss       []float32    `json:"loss"` // Loss[i] is the training batch's loss at iteration LossFrom+i
	LossFrom   int          `json:"loss_from"`
	Evals      []evalPoint  `json:"evals"`
	EvalsFrom  int          `json:"evals_from"`
	Sample     string       `json:"sample"`
	SampleStep int          `json:"sample_step"`
	Saved      string       `json:"saved"` // the last save, said in words
	Model      string       `json:"model"` // the Run view's name for the run's model
}

// evalPoint is the mean loss over fixed batches of each split, before iteration Step.
type evalPoint struct {
	Step  int     `json:"step"`
	Train float64 `json:"train"`
	Val   float64 `json:"val"`
}

// trainManager owns the training run: one at a time, on a goroutine of its own that the server,
// not a page, holds. Every touch of the model being trained happens on that goroutine; everyone
// else sees snapshots it publishes.
type trainManager struct {
	srv   *server
	mu    sync.Mutex // serialises Start, and guards cur
	cur   *trainRun
	runs  int
	hub   hub
	entry *entry // "trained" in the registry
}

const trainedModel = "trained"

func newTrainManager(srv *server) *trainManager {
	t := &trainManager{srv: srv}
	t.hub.st = trainStatus{State: stateNone, Model: trainedModel}
	t.hub.changed = make(chan struct{})
	return t
}

// addUntrained registers the model the page trains, before any training: random weights of the
// default size over tiny Shakespeare's characters, so the Run view has a model to show at once.
func (t *trainManager) addUntrained() error {
	p := presets()["shakespeare"]
	voc := charVocab(shakespeare)
	m, err := model.New(model.Config{VocabSize: voc.size(), BlockSize: p.BlockSize, NLayer: p.NLayer, NHead: p.NHead, NEmbd: p.NEmbd}, t.srv.opt.seed)
	if err != nil {
		return err
	}
	t.entry = t.srv.reg.add(trainedModel, "trained here", "the Train tab",
		newServed(m.Frozen(), voc, 0, "untrained: random weights (train it on the Train tab)"))
	return nil
}

// trainRun is one training run.
type trainRun struct {
	id      int
	cfg     trainConfig
	data    *dataset
	m       *model.GPT
	opt     *optim.AdamW
	sched   optim.CosineSchedule
	batches *rand.PCG // the training batches' generator, saved in checkpoints
	rng     *rand.Rand
	eval    map[string][]batch
	cmds    chan command
	done    chan struct{} // closed when the goroutine ends
	sampled chan struct{} // closed when the sampler ends
	stop    context.CancelFunc
	mgr     *trainManager
}

type command struct {
	kind  string // stop, resume, save, quit
	reply chan error
}

// start begins a new run, replacing a previous one that is not running.
func (t *trainManager) start(cfg trainConfig) (*trainStatus, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.cur; old != nil {
		if st := t.hub.snapshot(); st.State == stateRunning {
			return nil, &httpError{code: http.StatusConflict, msg: fmt.Sprintf("training run %d is running (step %d of %d): stop it before starting another", st.Run, st.Step, st.MaxIters)}
		}
		old.send(t.srv.ctx, "quit")
		<-old.done
		t.cur = nil
	}
	title, text := "your text", cfg.CustomText
	if cfg.Text != "custom" {
		title, text = texts[cfg.Text].title, texts[cfg.Text].text
	}
	data, err := newDataset(t.srv.ctx, title, text, cfg.Tokenizer, cfg.BPEVocab, cfg.BlockSize)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	mc := model.Config{VocabSize: data.voc.size(), BlockSize: data.blockSize, NLayer: cfg.NLayer, NHead: cfg.NHead, NEmbd: cfg.NEmbd}
	m, err := model.New(mc, cfg.Seed)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	t.runs++
	r := &trainRun{
		id: t.runs, cfg: cfg, data: data, m: m, mgr: t,
		opt: optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: float32(cfg.LR), Betas: [2]float32{0.9, 0.99}, WeightDecay: 0.1}),
		sched: optim.CosineSchedule{
			WarmupIters: min(100, cfg.MaxIters/10), DecayIters: cfg.MaxIters,
			MaxLR: float32(cfg.LR), MinLR: float32(cfg.LR / 10),
		},
		batches: rand.NewPCG(cfg.Seed, 0x6461746120726e67), // "data rng", as examples/shakespeare's -rng pcg
		cmds:    make(chan command),
		done:    make(chan struct{}),
		sampled: make(chan struct{}),
	}
	r.rng = rand.New(r.batches)
	evalRNG := rand.New(rand.NewPCG(cfg.Seed, 7))
	r.eval = map[string][]batch{}
	for _, split := range []string{"train", "val"} {
		ids := data.train
		if split == "val" {
			ids = data.val
		}
		for range evalBatches {
			r.eval[split] = append(r.eval[split], sampleBatch(ids, cfg.BatchSize, data.blockSize, evalRNG))
		}
	}
	msg := fmt.Sprintf("training on %s: %d tokens, vocabulary %d", title, len(data.train)+len(data.val), data.voc.size())
	if data.valIsTrain {
		msg = fmt.Sprintf("training on %s (%d tokens): too short to hold out a validation split, so the validation loss is measured on the training text", title, len(data.train))
	}
	if data.blockSize < cfg.BlockSize {
		msg += fmt.Sprintf("; context shortened to %d tokens to fit the text", data.blockSize)
	}
	cc := cfg
	cc.CustomText = "" // the status goes to every viewer: not the whole text
	cc.BlockSize = data.blockSize
	t.hub.update(func(st *trainStatus) {
		*st = trainStatus{
			Run: r.id, State: stateRunning, Message: msg, Config: &cc, Title: title, Model: trainedModel,
			Tokens: len(data.train) + len(data.val), Params: m.NumParams(), ValIsTrain: data.valIsTrain,
			MaxIters: cfg.MaxIters, LR: float64(r.sched.LR(0)),
		}
	})
	r.publish(0)
	ctx, stop := context.WithCancel(t.srv.ctx)
	r.stop = stop
	t.cur = r
	go r.loop(ctx)
	go r.sampler(ctx)
	st := t.hub.snapshot()
	return &st, nil
}

// wait waits for the current run's goroutine to end (after the server's context ends).
func (t *trainManager) wait() {
	t.mu.Lock()
	r := t.cur
	t.mu.Unlock()
	if r != nil {
		<-r.done
		<-r.sampled
	}
}

// command sends a command to the current run and waits for its answer.
func (t *trainManager) command(ctx context.Context, kind string) error {
	t.mu.Lock()
	r := t.cur
	t.mu.Unlock()
	if r == nil {
		return &httpError{code: http.StatusConflict, msg: "there is no training run: press Start first"}
	}
	return r.send(ctx, kind)
}

func (r *trainRun) send(ctx context.Context, kind string) error {
	c := command{kind: kind, reply: make(chan error, 1)}
	select {
	case r.cmds <- c:
	case <-r.done:
		return &httpError{code: http.StatusConflict, msg: "the training run has ended"}
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-r.done:
		return &httpError{code: http.StatusConflict, msg: "the training run has ended"}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop is the run's goroutine: it trains while running, and between steps answers commands and
// publishes snapshots.
func (r *trainRun) loop(ctx context.Context) {
	defer close(r.done)
	defer r.stop()
	defer func() {
		if v := recover(); v != nil {
			r.setState(stateFailed, fmt.Sprintf("training failed at step %d: %v", r.step(), v))
		}
	}()
	running := true
	step := 0
	lastEval := -1
	lastPublish := time.Now()
	var times []time.Duration
	for {
		var c command
		if running {
			select {
			case c = <-r.cmds:
			case <-ctx.Done():
				return
			default:
			}
		} else {
			select {
			case c = <-r.cmds:
			case <-ctx.Done():
				return
			}
		}
		if c.kind != "" {
			if c.kind == "quit" {
				c.reply <- nil
				return
			}
			var err error
			running, err = r.handle(c.kind, running, step)
			c.reply <- err
			continue
		}
		if (step%r.cfg.EvalInterval == 0 || step == r.cfg.MaxIters) && step != lastEval {
			lastEval = step
			if err := r.evaluate(step); err != nil {
				r.setState(stateDiverged, err.Error())
				running = false
				r.publish(step)
				continue
			}
		}
		if step == r.cfg.MaxIters {
			r.setState(stateFinished, fmt.Sprintf("finished %d iterations: the Run tab shows the trained model; Save keeps it", step))
			r.publish(step)
			running = false
			continue
		}
		t0 := time.Now()
		loss, err := r.trainStep(step)
		if err != nil {
			r.setState(stateDiverged, fmt.Sprintf("training stopped before step %d: %v. The weights from before that step are kept and shown; this run cannot be resumed or saved (a save would replace a good checkpoint): start again with a lower learning rate.", step, err))
			running = false
			r.publish(step)
			continue
		}
		times = append(times, time.Since(t0))
		if len(times) > 20 {
			times = times[1:]
		}
		step++
		var sum time.Duration
		for _, d := range times {
			sum += d
		}
		r.mgr.hub.update(func(st *trainStatus) {
			st.Loss = append(st.Loss, loss)
			st.Step = step
			st.LR = float64(r.opt.LR())
			st.MsPerIter = math.Round(float64(sum.Microseconds())/float64(len(times))) / 1000
		})
		if time.Since(lastPublish) >= r.mgr.srv.opt.snapshotEvery {
			r.publish(step)
			lastPublish = time.Now()
		}
	}
}

// handle carries out a command between steps and returns whether training goes on.
func (r *trainRun) handle(kind string, running bool, step int) (bool, error) {
	state := r.mgr.hub.snapshot().State
	conflict := func(format string, args ...any) (bool, error) {
		return running, &httpError{code: http.StatusConflict, msg: fmt.Sprintf(format, args...)}
	}
	switch kind {
	case "stop":
		if !running {
			return conflict("the run is not training (it is %s)", state)
		}
		r.setState(stateStopped, fmt.Sprintf("stopped at step %d: Resume continues, Save keeps the model", step))
		r.publish(step)
		return false, nil
	case "resume":
		switch state {
		case stateStopped:
			r.setState(stateRunning, fmt.Sprintf("resumed at step %d", step))
			return true, nil
		case stateRunning:
			return conflict("the run is already training")
		case stateFinished:
			return conflict("the run has finished its %d iterations: start a new one", r.cfg.MaxIters)
		default:
			return conflict("a %s run cannot be resumed: start a new one", state)
		}
	case "save":
		if state == stateDiverged || state == stateFailed {
			return conflict("not saving a %s run: the checkpoint in %s is left as it was", state, r.mgr.srv.opt.out)
		}
		dir := r.mgr.srv.opt.out
		if err := saveCheckpoint(dir, r.m, r.opt, step, r.data.voc, r.data.title, r.batches); err != nil {
			return running, &httpError{code: http.StatusInternalServerError, msg: err.Error()}
		}
		msg := fmt.Sprintf("saved step %d to %s (go run ./examples/explore -ckpt %s shows it)", step, dir, dir)
		r.mgr.hub.update(func(st *trainStatus) { st.Saved = msg })
		return running, nil
	}
	return running, badRequest("unknown command %q", kind)
}

// trainStep runs one iteration with the step every example shares (trainloop.Stepper): a batch
// forward and backward, the finite check, clipping and an AdamW step. On a non-finite loss or
// gradient it returns an error before the step, so the weights stay those of the last good step.
func (r *trainRun) trainStep(step int) (float32, error) {
	st := trainloop.Stepper{Opt: r.opt, Schedule: r.sched, Clip: 1, Gradients: r.mgr.srv.opt.gradHook}
	return st.Step(step, func(int) (*autograd.Var, error) {
		b := sampleBatch(r.data.train, r.cfg.BatchSize, r.data.blockSize, r.rng)
		return r.m.Loss(b.x, b.y, r.cfg.BatchSize, r.data.blockSize)
	})
}

// evaluate records the mean loss of each split over its fixed batches, on a frozen view.
func (r *trainRun) evaluate(step int) error {
	f := r.m.Frozen()
	var mean [2]float64
	for i, split := range []string{"train", "val"} {
		sum := 0.0
		for _, b := range r.eval[split] {
			l, err := f.Loss(b.x, b.y, r.cfg.BatchSize, r.data.blockSize)
			if err != nil {
				return err
			}
			sum += float64(l.Item())
		}
		mean[i] = sum / float64(len(r.eval[split]))
		if math.IsNaN(mean[i]) || math.IsInf(mean[i], 0) {
			return fmt.Errorf("training stopped at step %d: the %s loss is %v", step, split, mean[i])
		}
	}
	r.mgr.hub.update(func(st *trainStatus) {
		st.Evals = append(st.Evals, evalPoint{Step: step, Train: round4(mean[0]), Val: round4(mean[1])})
	})
	return nil
}

// publish hands the Run view a snapshot of the model after step iterations.
func (r *trainRun) publish(step int) {
	note := fmt.Sprintf("training run %d, step %d of %d", r.id, step, r.cfg.MaxIters)
	r.mgr.entry.cur.Store(newServed(r.m.Snapshot(), r.data.voc, step, note))
}

func (r *trainRun) setState(state, msg string) {
	r.mgr.hub.update(func(st *trainStatus) { st.State, st.Message = state, msg })
}

func (r *trainRun) step() int { return r.mgr.hub.snapshot().Step }

// sampler writes a sample from the latest snapshot every few seconds, beside the training (it
// reads only snapshots, so it needs no lock).
func (r *trainRun) sampler(ctx context.Context) {
	defer close(r.sampled)
	tick := time.NewTicker(r.mgr.srv.opt.sampleEvery)
	defer tick.Stop()
	prompt, _ := r.data.voc.encode("\n")
	if len(prompt) != 1 {
		prompt = r.data.train[:1]
	}
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s := r.mgr.entry.cur.Load()
		if s.version == last || r.mgr.hub.snapshot().Run != r.id {
			continue
		}
		last = s.version
		gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ids, err := s.m.GenerateAll(gctx, prompt, model.Sampling{MaxNew: r.mgr.srv.opt.sampleTokens, Temperature: 0.8, TopK: 40, Seed: 1})
		cancel()
		if err != nil && len(ids) == 0 {
			continue
		}
		text := s.voc.decode(ids)
		r.mgr.hub.update(func(st *trainStatus) {
			if st.Run == r.id {
				st.Sample, st.SampleStep = text, s.step
			}
		})
	}
}

// hub holds the training status and wakes the event streams when it changes.
type hub struct {
	mu      sync.Mutex
	st      trainStatus
	stamp   uint64
	changed chan struct{} // closed and replaced on every change
}

func (h *hub) update(f func(*trainStatus)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.st)
	h.stamp++
	close(h.changed)
	h.changed = make(chan struct{})
}

// snapshot returns a copy of the whole status.
func (h *hub) snapshot() trainStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.st
	st.Loss = append([]float32(nil), st.Loss...)
	st.Evals = append([]evalPoint(nil), st.Evals...)
	return st
}

// cursor is how much of the status an event stream has sent.
type cursor struct {
	run, loss, evals int
	stamp            uint64
	started          bool
}

// since returns what changed after c (nil if nothing) and a channel closed at the next change.
func (h *hub) since(c *cursor) (*trainStatus, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.started && c.stamp == h.stamp {
		return nil, h.changed
	}
	if !c.started || c.run != h.st.Run {
		c.loss, c.evals = 0, 0
	}
	st := h.st
	st.Loss = append([]float32(nil), h.st.Loss[min(c.loss, len(h.st.Loss)):]...)
	st.LossFrom = min(c.loss, len(h.st.Loss))
	st.Evals = append([]evalPoint(nil), h.st.Evals[min(c.evals, len(h.st.Evals)):]...)
	st.EvalsFrom = min(c.evals, len(h.st.Evals))
	*c = cursor{run: h.st.Run, loss: len(h.st.Loss), evals: len(h.st.Evals), stamp: h.stamp, started: true}
	return &st, h.changed
}
