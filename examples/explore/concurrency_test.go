package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentViewersWhileTraining is the -race test: while a run trains, several viewers read
// the model it is training (run, next, generate, embeddings), the status and the event stream,
// and one of them stops, saves and resumes the run. Every answer must be a success (or, for the
// commands, a 409 when the run is in another state), and the run must end finished.
func TestConcurrentViewersWhileTraining(t *testing.T) {
	_, ts := newTestServer(t, options{snapshotEvery: time.Millisecond, sampleEvery: 200 * time.Millisecond})
	var st trainStatus
	cfg := tinyRun("humpty", 120)
	cfg.EvalInterval = 25
	code, body := call(t, ts, "POST", "/api/train/start", cfg, &st)
	require.Equal(t, http.StatusOK, code, body)

	deadline := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	count := func(what string) {
		mu.Lock()
		counts[what]++
		mu.Unlock()
	}
	viewer := func(v int) {
		defer wg.Done()
		for i := 0; time.Now().Before(deadline); i++ {
			text := fmt.Sprintf("Humpty %d", i)
			var r runResponse
			code, body := call(t, ts, "POST", "/api/run", map[string]any{"model": "trained", "text": text, "temperature": 0.8}, &r)
			if code != http.StatusOK {
				t.Errorf("viewer %d: run: %d %s", v, code, body)
				return
			}
			ids := make([]string, len(r.Tokens))
			for k, tk := range r.Tokens {
				ids[k] = fmt.Sprint(tk.ID)
			}
			for _, path := range []string{
				"/api/next?model=trained&top_k=3&ids=" + strings.Join(ids, ","),
				"/api/generate?model=trained&temperature=1&ids=" + strings.Join(ids, ","),
				"/api/embeddings?model=trained",
				"/api/train",
				"/api/models",
			} {
				code, body := call(t, ts, "GET", path, nil, nil)
				if code != http.StatusOK {
					t.Errorf("viewer %d: %s: %d %s", v, path, code, body)
					return
				}
				count(strings.SplitN(path, "?", 2)[0])
			}
		}
	}
	follower := func() {
		defer wg.Done()
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/train/events", nil)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Errorf("stream: %v", err)
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				count("event")
			}
		}
	}
	commander := func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			for _, cmd := range []string{"stop", "save", "resume"} {
				code, body := call(t, ts, "POST", "/api/train/"+cmd, "", nil)
				if code != http.StatusOK && code != http.StatusConflict {
					t.Errorf("%s: %d %s", cmd, code, body)
				}
				count(cmd)
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	for v := range 4 {
		wg.Add(1)
		go viewer(v)
	}
	wg.Add(3)
	go follower()
	go follower()
	go commander()
	wg.Wait()
	// whatever state the commands left it in, it finishes
	call(t, ts, "POST", "/api/train/resume", "", nil)
	st = waitTrain(t, ts, 60*time.Second, func(s trainStatus) bool { return s.State == stateFinished })
	assert.Equal(t, 120, st.Step)
	assert.Len(t, st.Loss, 120)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("requests answered: %v", counts)
	assert.Greater(t, counts["event"], 2, "the streams saw the training")
	assert.Greater(t, counts["/api/generate"], 0)
}
