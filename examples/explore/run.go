package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/goformer/goformer/model"
)

// runRequest is what /api/run, /api/next and /api/generate take, as a JSON body (POST) or as
// query parameters (GET: ids as "1,2,3").
type runRequest struct {
	Model       string   `json:"model"`       // "" is the first model
	Text        *string  `json:"text"`        // the text to run, or
	IDs         []int    `json:"ids"`         // its token ids
	Temperature *float64 `json:"temperature"` // reshapes the next-token bars; absent: 1
	TopK        int      `json:"top_k"`       // keeps the k most likely tokens; 0: all
	Seed        *uint64  `json:"seed"`        // /api/generate's sampler; absent: a random one
}

func parseRunRequest(w http.ResponseWriter, r *http.Request) (*runRequest, error) {
	req := &runRequest{}
	if r.Method == http.MethodPost {
		return req, decodeJSON(w, r, maxBodyBytes, req)
	}
	q := r.URL.Query()
	if err := parseInput(q, &req.Model, &req.Text, &req.IDs, "temperature", "top_k", "seed"); err != nil {
		return nil, err
	}
	if err := parseFloatParam(q, "temperature", &req.Temperature); err != nil {
		return nil, err
	}
	if q.Has("top_k") {
		k, err := strconv.Atoi(q.Get("top_k"))
		if err != nil {
			return nil, badRequest("top_k: %q is not an integer", clip(q.Get("top_k"), 20))
		}
		req.TopK = k
	}
	if q.Has("seed") {
		v, err := strconv.ParseUint(q.Get("seed"), 10, 64)
		if err != nil {
			return nil, badRequest("seed: %q is not an unsigned integer", clip(q.Get("seed"), 30))
		}
		req.Seed = &v
	}
	return req, nil
}

// parseInput reads the query parameters that every endpoint running a model takes (model, text,
// ids as "1,2,3") after checking that q has no others than these and extra.
func parseInput(q url.Values, model *string, text **string, ids *[]int, extra ...string) error {
	for k := range q {
		if k != "model" && k != "text" && k != "ids" && !slices.Contains(extra, k) {
			return badRequest("unknown parameter %q", clip(k, 40))
		}
	}
	*model = q.Get("model")
	if q.Has("text") {
		t := q.Get("text")
		*text = &t
	}
	if q.Has("ids") {
		v, err := parseIDs(q.Get("ids"))
		if err != nil {
			return err
		}
		*ids = v
	}
	return nil
}

// checkInput checks a request's text or ids against the page's limits: one of the two, the text
// within maxTextBytes, the ids not empty and within maxIDs.
func checkInput(text *string, ids []int) error {
	switch {
	case text != nil && ids != nil:
		return badRequest("give text or ids, not both")
	case text != nil:
		if len(*text) > maxTextBytes {
			return &httpError{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the text is %d bytes; the limit is %d", len(*text), maxTextBytes)}
		}
	case ids != nil:
		if len(ids) > maxIDs {
			return &httpError{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("%d ids; the limit is %d", len(ids), maxIDs)}
		}
		if len(ids) == 0 {
			return badRequest("ids is empty")
		}
	default:
		return badRequest("give text or ids")
	}
	return nil
}

// parseIDs reads a query's ids, "1,2,3".
func parseIDs(list string) ([]int, error) {
	var ids []int
	for i, f := range strings.Split(list, ",") {
		if i >= maxIDs {
			return nil, &httpError{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("more than %d ids", maxIDs)}
		}
		id, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, badRequest("ids: %q is not a token id", clip(f, 20))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func parseFloatParam(q url.Values, name string, dst **float64) error {
	if !q.Has(name) {
		return nil
	}
	v, err := strconv.ParseFloat(q.Get(name), 64)
	if err != nil {
		return badRequest("%s: %q is not a number", name, clip(q.Get(name), 20))
	}
	*dst = &v
	return nil
}

// resolved is a checked runRequest: the model state to run and the ids to run it on.
type resolved struct {
	e        *entry
	s        *served
	all      []int // every id of the request
	ids      []int // the ones the model sees: the last window(s) of all
	skipped  []string
	temp     float64
	topK     int
	fromText bool
}

// resolve checks req against the model it names.
func (srv *server) resolve(req *runRequest) (*resolved, error) {
	e, s, err := srv.reg.lookup(req.Model, kindGPT)
	if err != nil {
		return nil, err
	}
	name := e.name
	out := &resolved{e: e, s: s, temp: 1, topK: req.TopK}
	if req.Temperature != nil {
		out.temp = *req.Temperature
	}
	if math.IsNaN(out.temp) || math.IsInf(out.temp, 0) || out.temp < 0 || out.temp > maxTemperature {
		return nil, badRequest("temperature must be a number in [0, %g], got %v", maxTemperature, out.temp)
	}
	if req.TopK < 0 {
		return nil, badRequest("top_k must be >= 0 (0 keeps every token), got %d", req.TopK)
	}
	v := s.m.Config.VocabSize
	if req.TopK >= v {
		out.topK = 0
	}
	if err := checkInput(req.Text, req.IDs); err != nil {
		return nil, err
	}
	if req.Text != nil {
		out.all, out.skipped = s.voc.encode(*req.Text)
		out.fromText = true
		if len(out.all) == 0 {
			return nil, badRequest("the text has no tokens in the vocabulary of model %q", name)
		}
	} else {
		for i, id := range req.IDs {
			if id < 0 || id >= v {
				return nil, badRequest("id %d at position %d is outside the vocabulary [0, %d) of model %q", id, i, v, name)
			}
		}
		out.all = req.IDs
	}
	out.ids = out.all[max(0, len(out.all)-window(s)):]
	return out, nil
}

// window is the most tokens a run on s shows: the model's context, the page's limit, and few
// enough that all the attention maps stay within maxAttnValues.
func window(s *served) int {
	c := s.m.Config
	byAttn := int(math.Sqrt(float64(maxAttnValues) / float64(c.NLayer*c.NHead)))
	return max(1, min(c.BlockSize, maxRunTokens, byAttn))
}

// tokenInfo is one token of the run.
type tokenInfo struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
	// P is the probability the model gave this token, given the ones before it (none for the
	// first); Top are its five likeliest tokens for the next position.
	P   *float32 `json:"p,omitempty"`
	Top []choice `json:"top"`
}

// choice is a candidate next token.
type choice struct {
	ID   int     `json:"id"`
	Text string  `json:"text"`
	P    float64 `json:"p"`            // after temperature and top-k
	P1   float64 `json:"p1,omitempty"` // at temperature 1 with every token (the model's own)
}

// nextInfo is the next-token distribution after the run's last token, reshaped.
type nextInfo struct {
	Temperature float64  `json:"temperature"`
	TopK        int      `json:"top_k"`
	Top         []choice `json:"top"`  // the likeliest, most likely first
	Rest        float64  `json:"rest"` // the probability of all the others
}

// attentionMap is one family of attention weights the page draws as heat maps: Data holds
// Layers × Heads maps of Rows × Cols weights (how much each row position attends to each
// column position), as little-endian uint16 of weight·65535, base64. A GPT has one, "self"
// (causal: rows and columns are the run's tokens). An encoder–decoder has three (seq2seq.go):
// "cross", whose rows are the output tokens and whose columns the source's, "decoder" (causal)
// and "encoder"; RowLabels and ColLabels name their rows and columns, and the page draws any map
// from them.
type attentionMap struct {
	Name   string `json:"name"`
	Layers int    `json:"layers"`
	Heads  int    `json:"heads"`
	Rows   int    `json:"rows"`
	Cols   int    `json:"cols"`
	Causal bool   `json:"causal"` // cells above the diagonal are masked
	// KVHead[h] is the key/value head that query head h reads, when the model has fewer KV heads
	// than query heads (grouped-query attention): the page draws each group together.
	KVHead    []int    `json:"kv_head,omitempty"`
	RowLabels []string `json:"row_labels,omitempty"` // absent: the run's tokens
	ColLabels []string `json:"col_labels,omitempty"`
	Data      string   `json:"data"`
}

// runResponse is everything the Run view shows.
type runResponse struct {
	Model     string         `json:"model"`
	Version   uint64         `json:"version"`
	Step      int            `json:"step"`
	Note      string         `json:"note"`
	Tokenizer string         `json:"tokenizer"`
	Tokens    []tokenInfo    `json:"tokens"`
	Cropped   int            `json:"cropped"` // leading tokens left out (over the window)
	Skipped   []string       `json:"skipped"` // characters outside a char vocabulary
	Window    int            `json:"window"`
	Next      nextInfo       `json:"next"`
	Attention []attentionMap `json:"attention"`
	// Coords are the tokens' positions on the embedding map (see /api/embeddings).
	Coords [][2]float64 `json:"coords"`
}

const (
	barsShown  = 16
	topPerStep = 5
)

func (srv *server) handleRun(w http.ResponseWriter, r *http.Request) error {
	req, err := parseRunRequest(w, r)
	if err != nil {
		return err
	}
	res, err := srv.resolve(req)
	if err != nil {
		return err
	}
	out, err := srv.run(r.Context(), res)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// run inspects res.ids and builds the Run view's response.
func (srv *server) run(ctx context.Context, res *resolved) (*runResponse, error) {
	release, err := srv.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	s := res.s
	in, err := s.m.Inspect(res.ids)
	if err != nil {
		return nil, &httpError{code: http.StatusUnprocessableEntity, msg: err.Error()}
	}
	t := len(res.ids)
	last := in.Next[t-1]
	srv.cache.put(s.version, res.ids, last)
	out := &runResponse{
		Model: res.e.name, Version: s.version, Step: s.step, Note: s.note, Tokenizer: s.voc.kind,
		Cropped: len(res.all) - t, Skipped: res.skipped, Window: window(s),
		Next: reshape(s.voc, last, res.temp, res.topK),
	}
	for i, id := range res.ids {
		ti := tokenInfo{ID: id, Text: s.voc.piece(id), Top: topChoices(s.voc, in.Next[i], topPerStep)}
		if i > 0 {
			p := in.Next[i-1][id]
			ti.P = &p
		}
		out.Tokens = append(out.Tokens, ti)
	}
	self := encodeAttention("self", in.Attention, t, t)
	self.Causal = true
	if kvHeads(s.m.Config) > 0 {
		self.KVHead = in.KVHead
	}
	out.Attention = []attentionMap{self}
	proj, err := s.projection()
	if err != nil {
		return nil, err
	}
	wte := s.m.WTE.Weight.Value.Contiguous().Data()
	c := s.m.Config.NEmbd
	for _, id := range res.ids {
		x, y := proj.project(wte[id*c : (id+1)*c])
		out.Coords = append(out.Coords, [2]float64{round4(x), round4(y)})
	}
	return out, nil
}

// encodeAttention packs att[layer][head][row][col] into an attentionMap.
func encodeAttention(name string, att [][][][]float32, rows, cols int) attentionMap {
	am := attentionMap{Name: name, Layers: len(att), Rows: rows, Cols: cols}
	if len(att) > 0 {
		am.Heads = len(att[0])
	}
	buf := make([]byte, 0, 2*am.Layers*am.Heads*rows*cols)
	for _, layer := range att {
		for _, head := range layer {
			for _, row := range head {
				for _, x := range row {
					buf = binary.LittleEndian.AppendUint16(buf, uint16(math.Round(float64(min(max(x, 0), 1))*65535)))
				}
			}
		}
	}
	am.Data = base64.StdEncoding.EncodeToString(buf)
	return am
}

// reshape turns probs (the model's next-token distribution) into the one a sampler with this
// temperature and top-k draws from, as model.Sampling defines it: the logits (here log probs,
// the same up to a constant) divided by the temperature, only the k likeliest kept, softmax in
// float64. Temperature 0 puts everything on the likeliest token.
func reshape(voc *vocab, probs []float32, temp float64, topK int) nextInfo {
	n := nextInfo{Temperature: temp, TopK: topK}
	var kept []int // nil: every token
	if topK > 0 && topK < len(probs) {
		kept = rankByProb(probs, topK)
	}
	shown := rankByProb(probs, barsShown)
	if kept != nil {
		shown = kept[:min(barsShown, len(kept))]
	}
	top := math.Log(float64(probs[shown[0]]))
	weight := func(id int) float64 {
		if temp == 0 {
			if id == shown[0] {
				return 1
			}
			return 0
		}
		return math.Exp((math.Log(float64(probs[id])) - top) / temp)
	}
	sum := 0.0
	if kept != nil {
		for _, id := range kept {
			sum += weight(id)
		}
	} else {
		for id := range probs {
			sum += weight(id)
		}
	}
	total := 0.0
	for _, id := range shown {
		p := weight(id) / sum
		n.Top = append(n.Top, choice{ID: id, Text: voc.piece(id), P: p, P1: float64(probs[id])})
		total += p
	}
	n.Rest = max(0, 1-total)
	return n
}

// topChoices returns the n likeliest tokens of probs.
func topChoices(voc *vocab, probs []float32, n int) []choice {
	var out []choice
	for _, id := range rankByProb(probs, n) {
		out = append(out, choice{ID: id, Text: voc.piece(id), P: float64(probs[id])})
	}
	return out
}

// rankByProb returns the ids of the n likeliest tokens, most likely first (the lower id first
// among equals, as the model's sampler orders them).
func rankByProb(probs []float32, n int) []int {
	n = min(n, len(probs))
	better := func(a, b int) bool { return probs[a] > probs[b] || probs[a] == probs[b] && a < b }
	if n > 64 { // sort them all
		ids := make([]int, len(probs))
		for i := range ids {
			ids[i] = i
		}
		slices.SortFunc(ids, func(a, b int) int {
			switch {
			case better(a, b):
				return -1
			case better(b, a):
				return 1
			}
			return 0
		})
		return ids[:n]
	}
	// keep a sorted list of the best n: V·n steps at worst, for a small n
	top := make([]int, 0, n+1)
	for id := range probs {
		if len(top) == n && !better(id, top[n-1]) {
			continue
		}
		i := len(top)
		top = append(top, id)
		for i > 0 && better(id, top[i-1]) {
			top[i] = top[i-1]
			i--
		}
		top[i] = id
		if len(top) > n {
			top = top[:n]
		}
	}
	return top
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// handleNext answers the sliders: the next-token bars for ids at another temperature and top-k,
// from the cached distribution when the model has not changed since the run.
func (srv *server) handleNext(w http.ResponseWriter, r *http.Request) error {
	req, err := parseRunRequest(w, r)
	if err != nil {
		return err
	}
	res, err := srv.resolve(req)
	if err != nil {
		return err
	}
	probs, err := srv.nextProbs(r.Context(), res)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"model": res.e.name, "version": res.s.version, "next": reshape(res.s.voc, probs, res.temp, res.topK),
	})
	return nil
}

// nextProbs returns the model's distribution for the token after res.ids.
func (srv *server) nextProbs(ctx context.Context, res *resolved) ([]float32, error) {
	if p, ok := srv.cache.get(res.s.version, res.ids); ok {
		return p, nil
	}
	release, err := srv.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	t := len(res.ids)
	logits, err := res.s.m.Forward(res.ids, 1, t) // s.m is frozen: no graph, no dropout
	if err != nil {
		return nil, &httpError{code: http.StatusUnprocessableEntity, msg: err.Error()}
	}
	v := res.s.m.Config.VocabSize
	row := logits.Value.Contiguous().Data()[(t-1)*v : t*v]
	p := softmax(row)
	if p == nil {
		return nil, &httpError{code: http.StatusUnprocessableEntity, msg: "the model's logits are not finite"}
	}
	srv.cache.put(res.s.version, res.ids, p)
	return p, nil
}

// softmax in float64, rounded to float32; nil if x is not finite.
func softmax(x []float32) []float32 {
	top := math.Inf(-1)
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil
		}
		top = max(top, float64(v))
	}
	e := make([]float64, len(x))
	sum := 0.0
	for i, v := range x {
		e[i] = math.Exp(float64(v) - top)
		sum += e[i]
	}
	out := make([]float32, len(x))
	for i := range e {
		out[i] = float32(e[i] / sum)
	}
	return out
}

// generateResponse is the new token, the whole sequence, and the Run view of it.
type generateResponse struct {
	Token choice       `json:"token"`
	Seed  uint64       `json:"seed"`
	IDs   []int        `json:"ids"`
	Text  string       `json:"text"`
	Run   *runResponse `json:"run"`
}

// handleGenerate samples one token after the request's ids with the library's sampler
// (model.GPT.Generate) at the request's temperature and top-k, the distribution the bars show,
// appends it, and runs the longer sequence.
func (srv *server) handleGenerate(w http.ResponseWriter, r *http.Request) error {
	req, err := parseRunRequest(w, r)
	if err != nil {
		return err
	}
	res, err := srv.resolve(req)
	if err != nil {
		return err
	}
	seed := rand.Uint64() >> 11 // below 2⁵³: the page's numbers hold it exactly
	if req.Seed != nil {
		seed = *req.Seed
	}
	release, err := srv.acquire(r.Context())
	if err != nil {
		return err
	}
	toks, err := res.s.m.GenerateAll(r.Context(), res.ids, model.Sampling{
		MaxNew: 1, Temperature: float32(res.temp), TopK: res.topK, Seed: seed,
	})
	release()
	if err != nil {
		return &httpError{code: http.StatusUnprocessableEntity, msg: err.Error()}
	}
	if len(toks) != 1 {
		return &httpError{code: http.StatusInternalServerError, msg: "the sampler gave no token"}
	}
	tok := toks[0]
	all := append(append([]int(nil), res.all...), tok)
	all = all[max(0, len(all)-maxIDs):]
	next := &resolved{e: res.e, s: res.s, all: all, ids: all[max(0, len(all)-window(res.s)):], temp: res.temp, topK: res.topK}
	run, err := srv.run(r.Context(), next)
	if err != nil {
		return err
	}
	run.Skipped = res.skipped
	writeJSON(w, http.StatusOK, generateResponse{
		Token: choice{ID: tok, Text: res.s.voc.piece(tok)}, Seed: seed, IDs: all, Text: res.s.voc.decode(all), Run: run,
	})
	return nil
}
