package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

func (s *server) handleTrainStatus(w http.ResponseWriter, r *http.Request) error {
	st := s.train.hub.snapshot()
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) handleTrainStart(w http.ResponseWriter, r *http.Request) error {
	var cfg trainConfig
	if err := decodeJSON(w, r, maxTrainBody, &cfg); err != nil {
		return err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	// refused before anything is allocated, and before a finished run is replaced
	text := cfg.CustomText
	if cfg.Text != "custom" {
		text = texts[cfg.Text].text
	}
	if err := checkMemory(cfg, vocabBound(cfg, text)); err != nil {
		return err
	}
	st, err := s.train.start(cfg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// handleTrainCommand answers Stop, Resume and Save, which the training goroutine carries out
// between two steps.
func (s *server) handleTrainCommand(kind string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var empty struct{}
		if err := decodeJSONOrEmpty(w, r, maxBodyBytes, &empty); err != nil {
			return err
		}
		if err := s.train.command(r.Context(), kind); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.train.hub.snapshot())
		return nil
	}
}

// handleTrainEvents streams the training status as server-sent events: the whole status first,
// then what changes, at most ten times a second, with a comment every 15 s to keep the
// connection open. A viewer that stops reading is dropped after a write times out; it never holds
// up the training, which only records what happened.
func (s *server) handleTrainEvents(w http.ResponseWriter, r *http.Request) {
	if s.streams.Add(1) > maxStreams {
		s.streams.Add(-1)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": fmt.Sprintf("more than %d viewers are following the training: try again later", maxStreams)})
		return
	}
	defer s.streams.Add(-1)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(write func() error) bool {
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if write() != nil || rc.Flush() != nil {
			return false
		}
		return true
	}
	if !send(func() error { _, err := fmt.Fprint(w, "retry: 2000\n\n"); return err }) {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	// A stream ends after a while: a page's EventSource reconnects at once (and gets the whole
	// status again), while a client that opened streams and never reads them (whose writes
	// may never block, the events being small) gives its slots back.
	life := time.NewTimer(s.opt.streamLife)
	defer life.Stop()
	var c cursor
	for {
		st, changed := s.train.hub.since(&c)
		if st != nil {
			b, err := json.Marshal(st)
			if err != nil {
				return
			}
			if !send(func() error { _, err := fmt.Fprintf(w, "event: train\ndata: %s\n\n", b); return err }) {
				return
			}
			// coalesce: a step every few milliseconds need not be an event each
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-life.C:
				return
			}
			continue
		}
		select {
		case <-changed:
		case <-ping.C:
			if !send(func() error { _, err := fmt.Fprint(w, ": ping\n\n"); return err }) {
				return
			}
		case <-r.Context().Done():
			return
		case <-life.C:
			return
		}
	}
}
