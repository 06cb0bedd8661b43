package main

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrainLifecycle(t *testing.T) {
	srv, ts := newTestServer(t, options{})
	// nothing to stop, resume or save before a run
	for _, cmd := range []string{"stop", "resume", "save"} {
		code, body := call(t, ts, "POST", "/api/train/"+cmd, map[string]any{}, nil)
		assert.Equal(t, http.StatusConflict, code, body)
		assert.Contains(t, body, "press Start")
	}
	var st trainStatus
	code, body := call(t, ts, "POST", "/api/train/start", tinyRun("humpty", 100000), &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 1, st.Run)
	assert.Equal(t, stateRunning, st.State)
	assert.True(t, st.ValIsTrain, "the rhyme is too short for a validation split")
	assert.Contains(t, st.Message, "too short to hold out")

	// one run at a time
	code, body = call(t, ts, "POST", "/api/train/start", tinyRun("humpty", 10), nil)
	assert.Equal(t, http.StatusConflict, code, body)
	assert.Contains(t, body, "stop it before")
	code, body = call(t, ts, "POST", "/api/train/resume", nil, nil)
	assert.Equal(t, http.StatusUnsupportedMediaType, code, body, "commands are JSON requests too")
	code, body = call(t, ts, "POST", "/api/train/resume", "", nil)
	assert.Equal(t, http.StatusConflict, code, body)
	assert.Contains(t, body, "already training")

	waitTrain(t, ts, 30*time.Second, func(s trainStatus) bool { return s.Step >= 30 && len(s.Evals) >= 2 })
	code, body = call(t, ts, "POST", "/api/train/stop", "{}", &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, stateStopped, st.State)
	stopped := st.Step
	time.Sleep(100 * time.Millisecond)
	st = waitTrain(t, ts, time.Second, func(trainStatus) bool { return true })
	assert.Equal(t, stopped, st.Step, "a stopped run does not move")
	assert.Len(t, st.Loss, stopped, "one loss per iteration")
	// the Run view shows the model at the step it stopped at
	var r runResponse
	call(t, ts, "POST", "/api/run", map[string]any{"model": "trained", "text": "Humpty"}, &r)
	assert.Equal(t, stopped, r.Step)
	assert.Contains(t, r.Note, "training run 1")

	code, body = call(t, ts, "POST", "/api/train/stop", "", nil)
	assert.Equal(t, http.StatusConflict, code, body)

	// save while stopped; the checkpoint holds the weights the Run view shows
	code, body = call(t, ts, "POST", "/api/train/save", "", &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, st.Saved, "saved step")
	m, voc, step, err := loadCheckpoint(context.Background(), srv.opt.out)
	require.NoError(t, err)
	assert.Equal(t, stopped, step)
	assert.Equal(t, "char", voc.kind)
	served := srv.train.entry.cur.Load()
	for i, p := range m.Parameters() {
		assert.Equal(t, served.m.Parameters()[i].Value.Data(), p.Value.Data(), p.Name())
	}

	// resume, then stop again further on
	code, body = call(t, ts, "POST", "/api/train/resume", "", &st)
	require.Equal(t, http.StatusOK, code, body)
	waitTrain(t, ts, 30*time.Second, func(s trainStatus) bool { return s.Step >= stopped+20 })
	call(t, ts, "POST", "/api/train/stop", "", nil)

	// a new run replaces a stopped one, and runs to the end
	code, body = call(t, ts, "POST", "/api/train/start", tinyRun("shakespeare", 40), &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 2, st.Run)
	assert.False(t, st.ValIsTrain)
	st = waitTrain(t, ts, 30*time.Second, func(s trainStatus) bool { return s.State == stateFinished })
	assert.Equal(t, 40, st.Step)
	assert.Len(t, st.Loss, 40)
	require.NotEmpty(t, st.Evals)
	assert.Equal(t, 0, st.Evals[0].Step)
	assert.Equal(t, 40, st.Evals[len(st.Evals)-1].Step, "a last evaluation at the end")
	assert.InDelta(t, math.Log(65), st.Evals[0].Val, 0.3, "an untrained char model is about uniform over 65 characters")
	assert.Less(t, st.Evals[len(st.Evals)-1].Train, st.Evals[0].Train, "training lowers the loss")
	code, body = call(t, ts, "POST", "/api/train/resume", "", nil)
	assert.Equal(t, http.StatusConflict, code, body)
	assert.Contains(t, body, "finished")
	// a sample comes from the latest snapshot
	st = waitTrain(t, ts, 10*time.Second, func(s trainStatus) bool { return s.Sample != "" && s.SampleStep == 40 })
	assert.NotEmpty(t, st.Sample)
}

func TestTrainBadConfigs(t *testing.T) {
	_, ts := newTestServer(t, options{})
	big := strings.Repeat("x", maxCustomText+1)
	for _, c := range []struct {
		name string
		body any
		code int
		says string
	}{
		{"unknown text", map[string]any{"text": "bible"}, 400, "unknown text"},
		{"heads do not divide", map[string]any{"text": "humpty", "n_embd": 30, "n_head": 4}, 400, "not divisible"},
		{"too many layers", map[string]any{"text": "humpty", "n_layer": 100}, 400, "n_layer must be in [1, 8]"},
		{"negative lr", map[string]any{"text": "humpty", "lr": -1}, 400, "lr must be"},
		{"huge lr", map[string]any{"text": "humpty", "lr": 5}, 400, "lr must be"},
		{"too many iterations", map[string]any{"text": "humpty", "max_iters": 10000000}, 400, "max_iters"},
		{"negative batch", map[string]any{"text": "humpty", "batch_size": -2}, 400, "batch_size"},
		{"context too long", map[string]any{"text": "humpty", "block_size": 5000}, 400, "block_size"},
		{"unknown tokenizer", map[string]any{"text": "humpty", "tokenizer": "words"}, 400, "tokenizer must be"},
		{"BPE too small", map[string]any{"text": "humpty", "tokenizer": "bpe", "bpe_vocab": 10}, 400, "bpe_vocab"},
		{"custom without a text", map[string]any{"text": "custom"}, 400, "custom_text is empty"},
		{"custom text too short", map[string]any{"text": "custom", "custom_text": "tiny"}, 400, "at least 16"},
		{"custom text not for presets", map[string]any{"text": "humpty", "custom_text": "abc"}, 400, "only for"},
		{"custom text too large", map[string]any{"text": "custom", "custom_text": big}, 413, "the limit is 2097152"},
		{"unknown field", map[string]any{"text": "humpty", "layers": 2}, 400, "unknown field"},
		{"malformed", `{"text": `, 400, "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := call(t, ts, "POST", "/api/train/start", c.body, nil)
			assert.Equal(t, c.code, code, body)
			assert.Contains(t, body, c.says)
		})
	}
	st := waitTrain(t, ts, time.Second, func(trainStatus) bool { return true })
	assert.Equal(t, stateNone, st.State, "no bad request started a run")
}

func TestTrainCustomTextBPE(t *testing.T) {
	_, ts := newTestServer(t, options{})
	text := strings.Repeat("the cat sat on the mat. the dog sat on the log. ", 40)
	cfg := tinyRun("custom", 20)
	cfg.CustomText, cfg.Tokenizer, cfg.BPEVocab = text, "bpe", 270
	var st trainStatus
	code, body := call(t, ts, "POST", "/api/train/start", cfg, &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "your text", st.Title)
	assert.Empty(t, st.Config.CustomText, "the status does not send the whole text to every viewer")
	waitTrain(t, ts, 30*time.Second, func(s trainStatus) bool { return s.State == stateFinished })
	var r runResponse
	code, body = call(t, ts, "POST", "/api/run", map[string]any{"model": "trained", "text": "the cat sat"}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "bpe", r.Tokenizer)
	pieces := ""
	for _, tk := range r.Tokens {
		pieces += tk.Text
	}
	assert.Equal(t, "the cat sat", pieces, "the BPE pieces spell the text")
	assert.Less(t, len(r.Tokens), len("the cat sat"), "merges make pieces longer than a byte")
}

// TestDivergedRunKeepsTheGoodCheckpoint poisons a gradient with NaN in the middle of a run: the
// run stops with a message naming the parameter, the Run view keeps working on the weights from
// before, and saving is refused, so the good checkpoint saved by an earlier run is left as it was.
func TestDivergedRunKeepsTheGoodCheckpoint(t *testing.T) {
	poisonAt := -1
	srv, ts := newTestServer(t, options{gradHook: func(step int, params []*autograd.Var) {
		if step == poisonAt {
			params[3].Grad().Data()[0] = float32(math.NaN())
		}
	}})
	// a good run, saved
	call(t, ts, "POST", "/api/train/start", tinyRun("humpty", 30), nil)
	waitTrain(t, ts, 30*time.Second, func(s trainStatus) bool { return s.State == stateFinished })
	code, body := call(t, ts, "POST", "/api/train/save", "", nil)
	require.Equal(t, http.StatusOK, code, body)
	good, err := os.ReadFile(filepath.Join(srv.opt.out, checkpoint.File))
	require.NoError(t, err)

	// a run that goes wrong at step 12
	poisonAt = 12
	cfg := tinyRun("humpty", 1000)
	cfg.Seed = 5
	call(t, ts, "POST", "/api/train/start", cfg, nil)
	st := waitTrain(t, ts, 30*time.Second, func(s trainStatus) bool { return s.State != stateRunning })
	assert.Equal(t, stateDiverged, st.State)
	assert.Equal(t, 12, st.Step, "stopped before the poisoned step")
	assert.Contains(t, st.Message, "NaN")
	assert.Contains(t, st.Message, "gradient of", "the message names the parameter")
	assert.Contains(t, st.Message, "lower learning rate")

	code, body = call(t, ts, "POST", "/api/train/save", "", nil)
	assert.Equal(t, http.StatusConflict, code, body)
	assert.Contains(t, body, "left as it was")
	code, body = call(t, ts, "POST", "/api/train/resume", "", nil)
	assert.Equal(t, http.StatusConflict, code, body)
	now, err := os.ReadFile(filepath.Join(srv.opt.out, checkpoint.File))
	require.NoError(t, err)
	assert.Equal(t, good, now, "the good checkpoint is untouched")

	// the weights from before the bad step are served, and are finite
	var r runResponse
	code, body = call(t, ts, "POST", "/api/run", map[string]any{"model": "trained", "text": "Humpty"}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 12, r.Step)
}

func TestSaveRefusesNonFiniteWeights(t *testing.T) {
	dir := t.TempDir()
	voc := charVocab("abcdefgh")
	m, err := model.New(model.Config{VocabSize: voc.size(), BlockSize: 8, NLayer: 1, NHead: 1, NEmbd: 8}, 1)
	require.NoError(t, err)
	require.NoError(t, saveCheckpoint(dir, m, nil, 3, voc, "test", nil))
	before, err := os.ReadFile(filepath.Join(dir, checkpoint.File))
	require.NoError(t, err)
	m.Parameters()[2].Value.Data()[1] = float32(math.Inf(1))
	err = saveCheckpoint(dir, m, nil, 4, voc, "test", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "+Inf")
	after, err := os.ReadFile(filepath.Join(dir, checkpoint.File))
	require.NoError(t, err)
	assert.Equal(t, before, after)
	_, _, step, err := loadCheckpoint(context.Background(), dir)
	require.NoError(t, err)
	assert.Equal(t, 3, step)
}

// TestLoadsShakespeareCheckpoint serves a checkpoint in the layout examples/shakespeare writes
// (its metadata: tokenizer, vocab, data, rng) as the first model.
func TestLoadsShakespeareCheckpoint(t *testing.T) {
	dir := t.TempDir()
	voc := charVocab(shakespeare)
	m, err := model.New(model.Config{VocabSize: 65, BlockSize: 32, NLayer: 2, NHead: 2, NEmbd: 16}, 3)
	require.NoError(t, err)
	require.NoError(t, checkpoint.Save(dir, m, checkpoint.State{Step: 250, Meta: map[string]string{
		"vocab": voc.meta["vocab"], "tokenizer": "char", "data": "tiny Shakespeare (embedded)", "rng": "pytorch",
	}}))
	_, ts := newTestServer(t, options{ckpt: dir})
	var models struct {
		Models []modelInfo `json:"models"`
	}
	call(t, ts, "GET", "/api/models", nil, &models)
	require.Len(t, models.Models, 3)
	assert.Equal(t, "checkpoint", models.Models[0].Name)
	assert.Equal(t, 250, models.Models[0].Step)
	var r runResponse
	code, body := call(t, ts, "POST", "/api/run", map[string]any{"text": "ROMEO:"}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "checkpoint", r.Model, "the checkpoint is the default model")
	assert.Len(t, r.Tokens, 6)
	assert.Equal(t, 2, r.Attention[0].Layers)

	// a checkpoint whose tokenizer cannot be rebuilt is refused with a reason
	bad := t.TempDir()
	require.NoError(t, checkpoint.Save(bad, m, checkpoint.State{Meta: map[string]string{"tokenizer": "bpe", "vocab": "bpe 512 abc", "data": "/nonexistent/file.txt"}}))
	_, err = newServer(context.Background(), options{ckpt: bad})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/file.txt")
}

// TestEventStream follows a run over server-sent events: the first event is the whole status,
// the next ones add losses where the last ones ended, and together they give every loss.
func TestEventStream(t *testing.T) {
	_, ts := newTestServer(t, options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/train/events", nil)
	require.NoError(t, err)
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := make(chan trainStatus, 1000)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var st trainStatus
				if json.Unmarshal([]byte(data), &st) == nil {
					events <- st
				}
			}
		}
	}()
	first := <-events
	assert.Equal(t, stateNone, first.State)
	call(t, ts, "POST", "/api/train/start", tinyRun("humpty", 30), nil)
	var loss []float32
	var evals []evalPoint
	for st := range events {
		if st.Run != 1 {
			continue
		}
		require.LessOrEqual(t, st.LossFrom, len(loss), "no gap in the losses")
		loss = append(loss[:st.LossFrom], st.Loss...)
		evals = append(evals[:st.EvalsFrom], st.Evals...)
		if st.State == stateFinished {
			break
		}
	}
	cancel()
	final := waitTrain(t, ts, time.Second, func(trainStatus) bool { return true })
	assert.Equal(t, final.Loss, loss, "the stream's pieces add up to the whole curve")
	assert.Equal(t, final.Evals, evals)
}

// TestClosingTheStreamStopsNothing: a viewer that goes away (closing the tab) does not stop or
// disturb the run, which the server owns.
func TestClosingTheStreamStopsNothing(t *testing.T) {
	_, ts := newTestServer(t, options{})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/train/events", nil)
	require.NoError(t, err)
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	call(t, ts, "POST", "/api/train/start", tinyRun("humpty", 30), nil)
	buf := make([]byte, 100)
	_, err = resp.Body.Read(buf)
	require.NoError(t, err)
	cancel()
	resp.Body.Close()
	st := waitTrain(t, ts, 30*time.Second, func(s trainStatus) bool { return s.State != stateRunning })
	assert.Equal(t, stateFinished, st.State)
	assert.Equal(t, 30, st.Step)
}

func TestTooManyStreams(t *testing.T) {
	srv, ts := newTestServer(t, options{})
	srv.streams.Store(maxStreams)
	code, body := call(t, ts, "GET", "/api/train/events", nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "viewers")
}
