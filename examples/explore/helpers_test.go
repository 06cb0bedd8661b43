package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newTestServer starts a server (and an httptest server for its handler) that ends with the test,
// its training goroutines included.
func newTestServer(t testing.TB, opt options) (*server, *httptest.Server) {
	t.Helper()
	if opt.out == "" {
		opt.out = t.TempDir()
	}
	if opt.snapshotEvery == 0 {
		opt.snapshotEvery = 20 * time.Millisecond
	}
	if opt.sampleEvery == 0 {
		opt.sampleEvery = 200 * time.Millisecond
	}
	if opt.sampleTokens == 0 {
		opt.sampleTokens = 40
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, opt)
	require.NoError(t, err)
	ts := httptest.NewUnstartedServer(srv.handler())
	ts.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	ts.Start()
	srv.loopback.Store(true)
	t.Cleanup(func() {
		cancel()
		ts.Close()
		srv.train.wait()
	})
	return srv, ts
}

// call sends a request and decodes the JSON answer into out (when not nil); it returns the
// status code and the body.
func call(t testing.TB, ts *httptest.Server, method, path string, body any, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(data, out), "body: %s", data)
	}
	return resp.StatusCode, string(data)
}

// waitTrain polls the training status until cond holds, failing after timeout.
func waitTrain(t testing.TB, ts *httptest.Server, timeout time.Duration, cond func(trainStatus) bool) trainStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var st trainStatus
		code, body := call(t, ts, "GET", "/api/train", nil, &st)
		require.Equal(t, http.StatusOK, code, body)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("training status never got there; last: state %s, step %d, message %q", st.State, st.Step, st.Message)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tinyRun is a training request small enough for tests (and -race) to run quickly.
func tinyRun(text string, iters int) trainConfig {
	return trainConfig{Text: text, NLayer: 1, NHead: 2, NEmbd: 16, BlockSize: 16, BatchSize: 4, MaxIters: iters, EvalInterval: 10, LR: 3e-3}
}
