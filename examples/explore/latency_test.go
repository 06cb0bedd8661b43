package main

import (
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Stop and Save answer within a second while a slow evaluation runs (here 16 batches of 250 ms
// each, 4 s in all): the trainer answers between two of its batches.
func TestStopAndSaveDuringEvaluation(t *testing.T) {
	var evaluating atomic.Int32
	started := make(chan struct{}, 64)
	_, ts := newTestServer(t, options{evalHook: func(step, batch int) {
		evaluating.Store(1)
		select {
		case started <- struct{}{}:
		default:
		}
		time.Sleep(250 * time.Millisecond)
	}})
	var st trainStatus
	code, body := call(t, ts, "POST", "/api/train/start", tinyRun("humpty", 1000), &st)
	require.Equal(t, http.StatusOK, code, body)

	<-started // the evaluation before step 0 is under way
	t0 := time.Now()
	code, body = call(t, ts, "POST", "/api/train/save", "{}", &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Less(t, time.Since(t0), time.Second, "Save during an evaluation")
	assert.Contains(t, st.Saved, "saved step 0")
	assert.Equal(t, stateRunning, st.State, "a save does not stop the run")

	t0 = time.Now()
	code, body = call(t, ts, "POST", "/api/train/stop", "{}", &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Less(t, time.Since(t0), time.Second, "Stop during an evaluation")
	assert.Equal(t, stateStopped, st.State)
	time.Sleep(600 * time.Millisecond)
	st = waitTrain(t, ts, time.Second, func(trainStatus) bool { return true })
	assert.Empty(t, st.Evals, "the interrupted evaluation records nothing")
	assert.Equal(t, 0, st.Step)

	// Resume evaluates the step again, then trains
	for len(started) > 0 {
		<-started
	}
	code, body = call(t, ts, "POST", "/api/train/resume", "{}", nil)
	require.Equal(t, http.StatusOK, code, body)
	<-started
	t0 = time.Now()
	code, body = call(t, ts, "POST", "/api/train/stop", "{}", &st)
	require.Equal(t, http.StatusOK, code, body)
	assert.Less(t, time.Since(t0), time.Second)
}

// Clients that open the event stream and never read it give their slots back when their
// streams end: every slot taken by such clients is free again after the streams' life.
func TestIdleStreamsAreDropped(t *testing.T) {
	srv, ts := newTestServer(t, options{streamLife: 300 * time.Millisecond})
	var bodies []io.Closer
	for range maxStreams {
		req, err := http.NewRequest("GET", ts.URL+"/api/train/events", nil)
		require.NoError(t, err)
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		bodies = append(bodies, resp.Body) // never read
	}
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	require.Eventually(t, func() bool { return srv.streams.Load() == maxStreams }, 5*time.Second, 10*time.Millisecond)
	code, body := call(t, ts, "GET", "/api/train/events", nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, code, "every slot is held: %s", body)
	assert.Eventually(t, func() bool { return srv.streams.Load() == 0 }, 5*time.Second, 20*time.Millisecond, "the idle streams end")
}

// A finished run gives its activations' memory back: the live heap after it is near what it
// was before, though its steps held tens of megabytes.
func TestMemoryReturnedAfterARun(t *testing.T) {
	_, ts := newTestServer(t, options{})
	heap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := heap()
	// the attention weights make most of it: cheap to compute, large to hold
	cfg := trainConfig{Text: "shakespeare", NLayer: 1, NHead: 16, NEmbd: 32, BlockSize: 256, BatchSize: 12, MaxIters: 3, EvalInterval: 100}
	est := estimateMemory(cfg, 65)
	require.Greater(t, est.Activations, int64(40<<20), "a run whose steps hold enough to see")
	code, body := call(t, ts, "POST", "/api/train/start", cfg, nil)
	require.Equal(t, http.StatusOK, code, body)
	waitTrain(t, ts, 60*time.Second, func(s trainStatus) bool { return s.State == stateFinished })
	after := heap()
	t.Logf("live heap: %.0f MB before the run, %.0f MB after it; its steps held about %.0f MB", float64(base)/(1<<20), float64(after)/(1<<20), float64(est.Activations)/(1<<20))
	assert.Less(t, after-base, est.Activations/4, "the run's activations are not kept")
}
