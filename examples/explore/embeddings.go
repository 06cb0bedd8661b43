package main

import (
	"net/http"
	"slices"
	"sync"
)

// projection returns the principal plane of s's token embedding, computing it once (under a
// computation slot) however many requests ask at the same time.
func (s *served) projection() (*projection, error) {
	s.pcaOnce.Do(func() {
		s.pca, s.pcaErr = newProjection(s.m.WTE.Weight.Value)
	})
	return s.pca, s.pcaErr
}

// embeddingsResponse places tokens on the plane of the two principal components of wte.
type embeddingsResponse struct {
	Model   string    `json:"model"`
	Version uint64    `json:"version"`
	IDs     []int     `json:"ids"`
	Labels  []string  `json:"labels"`
	X       []float64 `json:"x"`
	Y       []float64 `json:"y"`
	// Variance is the share of the embedding's variance along each axis.
	Variance [2]float64 `json:"variance"`
	Vocab    int        `json:"vocab"` // of which the first len(IDs) are drawn
}

// handleEmbeddings returns the embedding map of a model: its first maxEmbedPoints tokens (all of
// a char or small BPE vocabulary; for GPT-2 the single bytes and the earliest, most frequent
// merges).
func (srv *server) handleEmbeddings(w http.ResponseWriter, r *http.Request) error {
	for k := range r.URL.Query() {
		if k != "model" {
			return badRequest("unknown parameter %q", clip(k, 40))
		}
	}
	e, s, err := srv.reg.lookup(r.URL.Query().Get("model"), kindGPT)
	if err != nil {
		return err
	}
	release, err := srv.acquire(r.Context())
	if err != nil {
		return err
	}
	defer release()
	proj, err := s.projection()
	if err != nil {
		return &httpError{code: http.StatusUnprocessableEntity, msg: err.Error()}
	}
	c := s.m.Config
	n := min(c.VocabSize, maxEmbedPoints)
	out := embeddingsResponse{Model: e.name, Version: s.version, Vocab: c.VocabSize}
	if proj.total > 0 {
		out.Variance = [2]float64{round4(proj.variance[0] / proj.total), round4(proj.variance[1] / proj.total)}
	}
	wte := s.m.WTE.Weight.Value.Contiguous().Data()
	for id := range n {
		x, y := proj.project(wte[id*c.NEmbd : (id+1)*c.NEmbd])
		out.IDs = append(out.IDs, id)
		out.Labels = append(out.Labels, s.voc.piece(id))
		out.X = append(out.X, round4(x))
		out.Y = append(out.Y, round4(y))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// probCache keeps the last few next-token distributions by model state and ids, so that moving
// a slider reshapes them without running the model again.
type probCache struct {
	mu      sync.Mutex
	n       int
	entries []cacheEntry // oldest first
}

type cacheEntry struct {
	version uint64
	ids     []int
	probs   []float32
}

func newProbCache(n int) *probCache { return &probCache{n: n} }

func (c *probCache) get(version uint64, ids []int) ([]float32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.version == version && slices.Equal(e.ids, ids) {
			return e.probs, true
		}
	}
	return nil, false
}

// put stores probs (which nobody may change afterwards) for ids (copied).
func (c *probCache) put(version uint64, ids []int, probs []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == c.n {
		c.entries = slices.Delete(c.entries, 0, 1)
	}
	c.entries = append(c.entries, cacheEntry{version, slices.Clone(ids), probs})
}
