package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goformer/goformer/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModels(t *testing.T) {
	_, ts := newTestServer(t, options{})
	var got struct {
		Models []modelInfo    `json:"models"`
		Limits map[string]int `json:"limits"`
		Train  map[string]any `json:"train_defaults"`
	}
	code, body := call(t, ts, "GET", "/api/models", nil, &got)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, got.Models, 2)
	assert.Equal(t, pretrainedModel, got.Models[0].Name, "the page opens on the shipped, trained model")
	assert.Equal(t, 3000, got.Models[0].Step)
	m := got.Models[1]
	assert.Equal(t, "trained", m.Name)
	assert.Equal(t, 65, m.Vocab, "tiny Shakespeare has 65 characters")
	assert.Equal(t, "char", m.Tokenizer)
	assert.Contains(t, m.Note, "untrained")
	assert.Equal(t, maxTextBytes, got.Limits["text_bytes"])
	assert.Contains(t, got.Train, "humpty")
}

// decodeAttn unpacks an attentionMap's weights.
func decodeAttn(t *testing.T, a attentionMap) []float64 {
	raw, err := base64.StdEncoding.DecodeString(a.Data)
	require.NoError(t, err)
	require.Len(t, raw, 2*a.Layers*a.Heads*a.Rows*a.Cols)
	out := make([]float64, len(raw)/2)
	for i := range out {
		out[i] = float64(binary.LittleEndian.Uint16(raw[2*i:])) / 65535
	}
	return out
}

func TestRun(t *testing.T) {
	srv, ts := newTestServer(t, options{})
	text := "First Citizen:\nBefore we proceed"
	var r runResponse
	code, body := call(t, ts, "POST", "/api/run", map[string]any{"model": "trained", "text": text, "temperature": 1}, &r)
	require.Equal(t, http.StatusOK, code, body)

	// one token per character, each with the character as its piece
	require.Len(t, r.Tokens, len([]rune(text)))
	for i, ch := range []rune(text) {
		assert.Equal(t, string(ch), r.Tokens[i].Text, "token %d", i)
	}
	assert.Equal(t, 0, r.Cropped)
	assert.Equal(t, "char", r.Tokenizer)

	// The bars against an independent computation: the model's own forward pass and a softmax.
	s := srv.train.entry.cur.Load()
	ids := make([]int, len(r.Tokens))
	for i, tk := range r.Tokens {
		ids[i] = tk.ID
	}
	logits, err := s.m.Forward(ids, 1, len(ids))
	require.NoError(t, err)
	v := s.m.Config.VocabSize
	last := logits.Value.Contiguous().Data()[(len(ids)-1)*v:]
	lse := 0.0
	for _, x := range last {
		lse += math.Exp(float64(x))
	}
	lse = math.Log(lse)
	prev := 2.0
	sum := 0.0
	for _, c := range r.Next.Top {
		want := math.Exp(float64(last[c.ID]) - lse)
		assert.InDelta(t, want, c.P, 1e-5, "p of %q", c.Text)
		assert.InDelta(t, want, c.P1, 1e-5)
		assert.LessOrEqual(t, c.P, prev, "bars are sorted, most likely first")
		prev = c.P
		sum += c.P
	}
	assert.InDelta(t, 1, sum+r.Next.Rest, 1e-6)

	// attention: rows sum to 1, nothing attends to the future
	require.Len(t, r.Attention, 1)
	a := r.Attention[0]
	assert.Equal(t, "self", a.Name)
	assert.Equal(t, [4]int{4, 4, len(ids), len(ids)}, [4]int{a.Layers, a.Heads, a.Rows, a.Cols})
	w := decodeAttn(t, a)
	n := len(ids)
	for lh := range a.Layers * a.Heads {
		for i := range n {
			row := w[(lh*n+i)*n : (lh*n+i+1)*n]
			s := 0.0
			for j, x := range row {
				s += x
				if j > i {
					assert.Zero(t, x, "map %d: position %d attends to later position %d", lh, i, j)
				}
			}
			assert.InDelta(t, 1, s, float64(n)/65535+1e-4, "map %d row %d", lh, i)
		}
	}
	// the first position can only attend to itself
	assert.Equal(t, 1.0, w[0])

	// p of each token is the probability the previous position gave it
	assert.Nil(t, r.Tokens[0].P)
	for i := 1; i < len(r.Tokens); i++ {
		require.NotNil(t, r.Tokens[i].P)
		assert.Greater(t, *r.Tokens[i].P, float32(0))
		assert.Len(t, r.Tokens[i].Top, topPerStep)
	}
	assert.Len(t, r.Coords, len(ids))

	// GET with query parameters gives the same answer as POST
	var g runResponse
	code, body = call(t, ts, "GET", "/api/run?model=trained&text="+url.QueryEscape(text), nil, &g)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, r.Next, g.Next)
	assert.Equal(t, r.Attention, g.Attention)
}

func TestRunCropsAndSkips(t *testing.T) {
	_, ts := newTestServer(t, options{})
	// 100 characters, over the untrained model's context of 64; é and 日 are not in its vocabulary
	text := strings.Repeat("abcdefghij", 10) + "é日"
	var r runResponse
	code, body := call(t, ts, "POST", "/api/run", map[string]any{"text": text}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Len(t, r.Tokens, 64)
	assert.Equal(t, 36, r.Cropped)
	assert.Equal(t, []string{"é", "日"}, r.Skipped)
	assert.Equal(t, "j", r.Tokens[63].Text, "the last 64 characters are kept")
}

func TestReshape(t *testing.T) {
	voc := charVocab("abc")
	probs := []float32{0.2, 0.5, 0.3} // a, b, c
	p := func(n nextInfo) map[string]float64 {
		out := map[string]float64{}
		for _, c := range n.Top {
			out[c.Text] = c.P
		}
		return out
	}
	// temperature 1: as they are, sorted
	n := reshape(voc, probs, 1, 0)
	require.Len(t, n.Top, 3)
	assert.Equal(t, []string{"b", "c", "a"}, []string{n.Top[0].Text, n.Top[1].Text, n.Top[2].Text})
	assert.InDelta(t, 0.5, p(n)["b"], 1e-6)
	// temperature 2: p^(1/2), renormalised (worked by hand: √.5 = .70711, √.3 = .54772, √.2 = .44721)
	n = reshape(voc, probs, 2, 0)
	sum := 0.70711 + 0.54772 + 0.44721
	assert.InDelta(t, 0.70711/sum, p(n)["b"], 1e-4)
	assert.InDelta(t, 0.44721/sum, p(n)["a"], 1e-4)
	// top-k 2: a is dropped, the rest renormalised
	n = reshape(voc, probs, 1, 2)
	require.Len(t, n.Top, 2)
	assert.InDelta(t, 0.5/0.8, p(n)["b"], 1e-6)
	assert.InDelta(t, 0.3/0.8, p(n)["c"], 1e-6)
	assert.InDelta(t, 0, n.Rest, 1e-9)
	// temperature 0: everything on the likeliest
	n = reshape(voc, probs, 0, 0)
	assert.Equal(t, 1.0, p(n)["b"])
	assert.Equal(t, 0.0, p(n)["c"])
	assert.InDelta(t, 0.3, n.Top[1].P1, 1e-7, "P1 keeps the model's own probability")
}

// TestGenerateFollowsTheBars checks that "generate one token" samples from the distribution the
// bars show: with top-k 3, every sample is one of the three bars, and over many seeds each
// comes about as often as its bar says.
func TestGenerateFollowsTheBars(t *testing.T) {
	srv, _ := newTestServer(t, options{})
	voc := charVocab(shakespeare)
	m, err := model.New(model.Config{VocabSize: voc.size(), BlockSize: 16, NLayer: 1, NHead: 2, NEmbd: 16}, 4)
	require.NoError(t, err)
	s := newServed(m.Frozen(), voc, 0, "tiny")
	ids, _ := s.voc.encode("To be, or not")
	probs, err := srv.nextProbs(context.Background(), &resolved{s: s, ids: ids})
	require.NoError(t, err)
	bars := reshape(s.voc, probs, 0.7, 3)
	want := map[int]float64{}
	for _, c := range bars.Top {
		want[c.ID] = c.P
	}
	require.Len(t, want, 3)
	const n = 600
	got := map[int]int{}
	for seed := range uint64(n) {
		tok, err := s.m.GenerateAll(context.Background(), ids, model.Sampling{MaxNew: 1, Temperature: 0.7, TopK: 3, Seed: seed})
		require.NoError(t, err)
		require.Len(t, tok, 1)
		got[tok[0]]++
	}
	for id, c := range got {
		p, ok := want[id]
		require.True(t, ok, "sampled token %d is not among the bars %v", id, want)
		// binomial standard deviation, and 4.5 of them: a false alarm about once in 10⁵ runs
		sd := math.Sqrt(p * (1 - p) / n)
		assert.InDelta(t, p, float64(c)/n, 4.5*sd+1e-9, "token %d", id)
	}
}

func TestGenerate(t *testing.T) {
	_, ts := newTestServer(t, options{})
	text := "Humpty Dumpty sat on a wa"
	var g generateResponse
	code, body := call(t, ts, "POST", "/api/generate", map[string]any{"text": text, "temperature": 0, "seed": 7}, &g)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, text+g.Token.Text, g.Text, "the new token is appended")
	assert.Len(t, g.IDs, len(text)+1)
	require.NotNil(t, g.Run)
	assert.Len(t, g.Run.Tokens, len(text)+1)
	// temperature 0 picks the top bar of the text before
	var r runResponse
	call(t, ts, "POST", "/api/run", map[string]any{"text": text}, &r)
	assert.Equal(t, r.Next.Top[0].ID, g.Token.ID)

	// the same seed gives the same token; ids continue exactly where the last answer ended
	var a, b generateResponse
	req := map[string]any{"ids": g.IDs, "temperature": 1.5, "seed": 42}
	call(t, ts, "POST", "/api/generate", req, &a)
	call(t, ts, "POST", "/api/generate", req, &b)
	assert.Equal(t, a.Token, b.Token)
	assert.Equal(t, append(append([]int(nil), g.IDs...), a.Token.ID), a.IDs)
	assert.Equal(t, uint64(42), a.Seed)
	// without a seed the server picks one that the page's numbers can hold exactly
	var c generateResponse
	call(t, ts, "GET", "/api/generate?text=abc", nil, &c)
	assert.Less(t, c.Seed, uint64(1)<<53)
}

func TestNextUsesTheSameDistribution(t *testing.T) {
	_, ts := newTestServer(t, options{})
	var r runResponse
	call(t, ts, "POST", "/api/run", map[string]any{"text": "O Romeo, Romeo", "temperature": 0.5, "top_k": 5}, &r)
	ids := make([]int, len(r.Tokens))
	for i, tk := range r.Tokens {
		ids[i] = tk.ID
	}
	var n struct {
		Next nextInfo `json:"next"`
	}
	code, body := call(t, ts, "POST", "/api/next", map[string]any{"ids": ids, "temperature": 0.5, "top_k": 5}, &n)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, r.Next, n.Next)
	code, body = call(t, ts, "GET", "/api/next?ids="+strings.Trim(strings.Join(strings.Fields(fmt.Sprint(ids)), ","), "[]")+"&temperature=0.5&top_k=5", nil, &n)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, r.Next, n.Next)
}

func TestEmbeddings(t *testing.T) {
	_, ts := newTestServer(t, options{})
	var e embeddingsResponse
	code, body := call(t, ts, "GET", "/api/embeddings?model=trained", nil, &e)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, e.IDs, 65)
	require.Len(t, e.X, 65)
	assert.Equal(t, "\n", e.Labels[0])
	assert.Greater(t, e.Variance[0], 0.0)
	assert.GreaterOrEqual(t, e.Variance[0], e.Variance[1], "the first axis holds the most variance")
	assert.Less(t, e.Variance[0]+e.Variance[1], 1.0)
	// the run places its tokens where the map does
	var r runResponse
	call(t, ts, "POST", "/api/run", map[string]any{"model": "trained", "text": "abc"}, &r)
	require.Equal(t, e.Version, r.Version)
	for i, tk := range r.Tokens {
		assert.Equal(t, [2]float64{e.X[tk.ID], e.Y[tk.ID]}, r.Coords[i])
	}
}

// TestBadRequests sends what a client should not, and checks each gets a 4xx with a message that
// says what was wrong.
func TestBadRequests(t *testing.T) {
	_, ts := newTestServer(t, options{})
	long := strings.Repeat("a", maxTextBytes+1)
	for _, c := range []struct {
		name, method, path string
		body               any
		code               int
		says               string
	}{
		{"malformed JSON", "POST", "/api/run", `{"text": "hi"`, 400, "malformed JSON"},
		{"NaN in JSON", "POST", "/api/run", `{"text": "hi", "temperature": NaN}`, 400, "malformed JSON"},
		{"a string for a number", "POST", "/api/run", `{"text": "hi", "temperature": "NaN"}`, 400, "malformed JSON"},
		{"unknown field", "POST", "/api/run", `{"text": "hi", "temprature": 1}`, 400, "unknown field"},
		{"two objects", "POST", "/api/run", `{"text": "hi"} {}`, 400, "more than one value"},
		{"empty body", "POST", "/api/run", ``, 400, "empty"},
		{"text over the limit", "POST", "/api/run", map[string]any{"text": long}, 413, "limit is 4000"},
		{"text over the limit (GET)", "GET", "/api/run?text=" + long, nil, 413, "limit is 4000"},
		{"body over the limit", "POST", "/api/run", `{"text": "` + strings.Repeat("a", maxBodyBytes) + `"}`, 413, "over"},
		{"unknown model", "POST", "/api/run", map[string]any{"model": "gpt5", "text": "hi"}, 404, `unknown model \"gpt5\"`},
		{"negative top-k", "POST", "/api/run", map[string]any{"text": "hi", "top_k": -1}, 400, "top_k must be >= 0"},
		{"negative top-k (next)", "GET", "/api/next?ids=1,2&top_k=-3", nil, 400, "top_k must be >= 0"},
		{"NaN temperature (GET)", "GET", "/api/run?text=hi&temperature=NaN", nil, 400, "temperature must be"},
		{"infinite temperature", "GET", "/api/next?ids=1&temperature=Inf", nil, 400, "temperature must be"},
		{"negative temperature", "POST", "/api/generate", map[string]any{"text": "hi", "temperature": -0.5}, 400, "temperature must be"},
		{"temperature too high", "POST", "/api/run", map[string]any{"text": "hi", "temperature": 11}, 400, "temperature must be"},
		{"id out of range", "POST", "/api/run", map[string]any{"ids": []int{1, 65}}, 400, "outside the vocabulary"},
		{"negative id", "GET", "/api/next?ids=3,-1", nil, 400, "outside the vocabulary"},
		{"id not a number", "GET", "/api/run?ids=1,x", nil, 400, "not a token id"},
		{"too many ids", "POST", "/api/run", map[string]any{"ids": make([]int, maxIDs+1)}, 413, "limit is 1024"},
		{"empty ids", "POST", "/api/run", map[string]any{"ids": []int{}}, 400, "ids is empty"},
		{"text and ids", "POST", "/api/run", map[string]any{"text": "a", "ids": []int{1}}, 400, "not both"},
		{"neither text nor ids", "POST", "/api/run", map[string]any{}, 400, "give text or ids"},
		{"no known characters", "POST", "/api/run", map[string]any{"text": "日本"}, 400, "no tokens"},
		{"unknown parameter", "GET", "/api/run?text=hi&tempreature=1", nil, 400, "unknown parameter"},
		{"top_k not an integer", "GET", "/api/run?text=hi&top_k=1.5", nil, 400, "not an integer"},
		{"bad seed", "GET", "/api/generate?text=hi&seed=-1", nil, 400, "seed"},
		{"unknown model (embeddings)", "GET", "/api/embeddings?model=nope", nil, 404, "unknown model"},
		{"unknown endpoint", "GET", "/api/nothing", nil, 404, "no endpoint"},
		{"wrong method", "DELETE", "/api/run", nil, 404, "no endpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := call(t, ts, c.method, c.path, c.body, nil)
			assert.Equal(t, c.code, code, body)
			assert.Contains(t, body, `"error"`)
			assert.Contains(t, body, c.says)
		})
	}
	// a form post (what another web site could make a browser send) is refused
	resp, err := ts.Client().Post(ts.URL+"/api/train/start", "text/plain", strings.NewReader(`{"text": "humpty"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

func TestHostCheck(t *testing.T) {
	_, ts := newTestServer(t, options{})
	req, err := http.NewRequest("GET", ts.URL+"/api/models", nil)
	require.NoError(t, err)
	req.Host = "evil.example:80"
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a page on another name (DNS rebinding) cannot reach the server")
	for _, host := range []string{"localhost:1234", "127.0.0.1", "[::1]:80"} {
		assert.True(t, loopbackHost(host), host)
	}
}

func TestStaticFiles(t *testing.T) {
	_, ts := newTestServer(t, options{})
	for path, want := range map[string]string{
		"/":                  "goformer <span>explore</span>",
		"/?text=hello":       "/static/app.js",
		"/static/app.js":     "EventSource",
		"/static/style.css":  "--accent",
		"/static/charts.js":  "drawLossChart",
		"/static/index.html": "<!doctype html>",
	} {
		resp, err := ts.Client().Get(ts.URL + path)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(b), want, path)
		assert.NotEmpty(t, resp.Header.Get("Content-Security-Policy"), path)
	}
	resp, err := ts.Client().Get(ts.URL + "/static/nope.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestPanicBecomes500(t *testing.T) {
	srv, _ := newTestServer(t, options{})
	h := srv.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/x", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, rec.Body.String(), "boom")
}

func TestBusyServerAnswers503(t *testing.T) {
	srv, ts := newTestServer(t, options{queueTimeout: 50 * time.Millisecond})
	for range cap(srv.work) { // every computation slot taken
		srv.work <- struct{}{}
	}
	code, body := call(t, ts, "POST", "/api/run", map[string]any{"text": "hi"}, nil)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "busy")
	for range cap(srv.work) {
		<-srv.work
	}
	code, body = call(t, ts, "POST", "/api/run", map[string]any{"text": "hi"}, nil)
	assert.Equal(t, http.StatusOK, code, body)
}
