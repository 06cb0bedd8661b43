package main

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/goformer/goformer/model"
)

// served is one state of a model as the page sees it: weights that never change (a frozen view of
// a loaded model, or a Snapshot the trainer took between two optimiser steps) and the tokenizer
// that goes with them. It is immutable, so any number of requests may use it at once; the
// trainer publishes a new one instead of changing it.
type served struct {
	m       *model.GPT         // a GPT, or
	tm      *model.Transformer // an encoder–decoder (seq2seq.go)
	voc     *vocab             // the GPT's tokenizer
	seq     *seqVocab          // the encoder–decoder's vocabulary
	version uint64             // different for every served state of every model
	step    int                // training iterations behind these weights (0: as loaded or untrained)
	note    string             // shown beside the model: "untrained", "training: step 120", ...

	pcaOnce sync.Once
	pca     *projection
	pcaErr  error
}

var versions atomic.Uint64

func newServed(m *model.GPT, voc *vocab, step int, note string) *served {
	return &served{m: m, voc: voc, version: versions.Add(1), step: step, note: note}
}

// The kinds of model the page shows: each has its own view and endpoints.
const (
	kindGPT     = "gpt"     // /api/run, /api/next, /api/generate, /api/embeddings
	kindSeq2Seq = "seq2seq" // /api/translate
)

func (s *served) kind() string {
	if s.tm != nil {
		return kindSeq2Seq
	}
	return kindGPT
}

// entry is a model the page can pick: fixed for -ckpt and -model, replaced step by step for the
// page's own training run.
type entry struct {
	name, title, source string
	cur                 atomic.Pointer[served]
}

// registry holds the models by name.
type registry struct {
	mu      sync.RWMutex
	entries map[string]*entry
	order   []string
}

func newRegistry() *registry { return &registry{entries: map[string]*entry{}} }

func (r *registry) add(name, title, source string, s *served) *entry {
	e := &entry{name: name, title: title, source: source}
	e.cur.Store(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.entries[name]; !ok {
		r.order = append(r.order, name)
	}
	r.entries[name] = e
	return e
}

// get returns the current state of the model called name.
func (r *registry) get(name string) (*entry, *served, error) {
	r.mu.RLock()
	e, ok := r.entries[name]
	names := slices.Clone(r.order)
	r.mu.RUnlock()
	if !ok {
		sort.Strings(names)
		return nil, nil, &httpError{code: 404, msg: fmt.Sprintf("unknown model %q (the models are %q)", clip(name, 40), names)}
	}
	return e, e.cur.Load(), nil
}

// lookup returns the current state of the model called name, which must be of the kind an
// endpoint runs; "" names the first model of that kind.
func (r *registry) lookup(name, kind string) (*entry, *served, error) {
	if name == "" {
		for _, e := range r.list() {
			if e.cur.Load().kind() == kind {
				name = e.name
				break
			}
		}
	}
	e, s, err := r.get(name)
	if err != nil {
		return nil, nil, err
	}
	if s.kind() != kind {
		if kind == kindSeq2Seq {
			return nil, nil, badRequest("model %q is a GPT: /api/run runs it", e.name)
		}
		return nil, nil, badRequest("model %q is an encoder–decoder: /api/translate runs it", e.name)
	}
	return e, s, nil
}

func (r *registry) list() []*entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*entry, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.entries[n])
	}
	return out
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
