package main

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/goformer/goformer/model"
)

// The scheduler decodes every running request together: each decode step runs one new token of
// every request through the model as one batch (so each weight matrix is read once per step for
// all of them), and requests join and leave between steps. Requests wait in a bounded queue; a
// full queue is refused at once (429), never grown.

// engine is the model side of decoding: one goroutine (the scheduler's) calls start and step.
type engine interface {
	// start prefills prompt into a new sequence and returns it with the logits of its last
	// position.
	start(prompt []int) (sequence, []float32, error)
	// step appends tokens[i] to seqs[i], all in one batch, and returns each one's next logits.
	step(seqs []sequence, tokens []int) ([][]float32, error)
	// contextLen is the most positions a sequence may hold.
	contextLen() int
}

// sequence is one request's decoding state inside the engine (its KV cache).
type sequence interface {
	// Len is the number of positions the sequence holds.
	Len() int
}

// request is one generation: a prompt, how to choose tokens, and where they go.
type request struct {
	ctx     context.Context
	prompt  []int
	maxNew  int
	sampler *model.Sampler
	stopIDs []int
	// out receives each new token, then one final event. It has room for every event the request
	// can produce, so the scheduler never waits for a slow client.
	out chan event
}

// event is one step's outcome for a request: a token, or the end (with its reason or error).
type event struct {
	tok    int
	finish string // "" for a token; "stop" or "length" at the end
	err    error  // set at the end on failure
}

func newRequest(ctx context.Context, prompt []int, maxNew int, smp *model.Sampler, stopIDs []int) *request {
	return &request{ctx: ctx, prompt: prompt, maxNew: maxNew, sampler: smp, stopIDs: stopIDs,
		out: make(chan event, maxNew+1)}
}

// errQueueFull is returned by submit when the queue has no room.
var errQueueFull = errors.New("server busy: the request queue is full")

type scheduler struct {
	eng      engine
	queue    chan *request
	maxBatch int

	mu      sync.Mutex
	running int // requests being decoded
	peak    int // the largest batch a step has run
}

func newScheduler(eng engine, maxBatch, queueLen int) *scheduler {
	return &scheduler{eng: eng, queue: make(chan *request, queueLen), maxBatch: maxBatch}
}

// submit queues r, or refuses it at once when the queue is full.
func (s *scheduler) submit(r *request) error {
	select {
	case s.queue <- r:
		return nil
	default:
		return errQueueFull
	}
}

// live is a request being decoded.
type live struct {
	*request
	seq    sequence
	logits []float32 // the next token's logits
	made   int       // tokens generated so far
}

// run decodes until ctx is done; then it ends every queued and running request with ctx's error.
func (s *scheduler) run(ctx context.Context) {
	var active []*live
	defer func() {
		for _, l := range active {
			l.out <- event{err: ctx.Err()}
		}
		for {
			select {
			case r := <-s.queue:
				r.out <- event{err: ctx.Err()}
			default:
				return
			}
		}
	}()
	for {
		if len(active) == 0 { // idle: wait for work
			select {
			case r := <-s.queue:
				active = s.admit(active, r)
			case <-ctx.Done():
				return
			}
		}
	admit:
		for len(active) < s.maxBatch {
			select {
			case r := <-s.queue:
				active = s.admit(active, r)
			default:
				break admit
			}
		}
		if ctx.Err() != nil {
			return
		}
		active = s.advance(active)
		s.mu.Lock()
		s.running = len(active)
		s.peak = max(s.peak, len(active))
		s.mu.Unlock()
	}
}

// admit prefills r and adds it to active, or ends it at once when it is already cancelled or its
// prompt fails.
func (s *scheduler) admit(active []*live, r *request) []*live {
	if err := r.ctx.Err(); err != nil {
		r.out <- event{err: err}
		return active
	}
	seq, logits, err := s.eng.start(r.prompt)
	if err != nil {
		r.out <- event{err: err}
		return active
	}
	return append(active, &live{request: r, seq: seq, logits: logits})
}

// advance chooses each active request's next token from its logits, ends the requests that are
// finished or cancelled, and runs one batched step for the rest.
func (s *scheduler) advance(active []*live) []*live {
	next := active[:0]
	var tokens []int
	for _, l := range active {
		if err := l.ctx.Err(); err != nil { // the client went away or a stop string matched
			l.out <- event{err: err}
			continue
		}
		tok, err := l.sampler.Next(l.logits)
		if err != nil {
			l.out <- event{err: err}
			continue
		}
		if slices.Contains(l.stopIDs, tok) {
			l.out <- event{finish: "stop"}
			continue
		}
		l.out <- event{tok: tok}
		l.made++
		if l.made >= l.maxNew || l.seq.Len()+1 >= s.eng.contextLen() {
			l.out <- event{finish: "length"}
			continue
		}
		next = append(next, l)
		tokens = append(tokens, tok)
	}
	clear(active[len(next):]) // drop finished requests' state now
	if len(next) == 0 {
		return next
	}
	seqs := make([]sequence, len(next))
	for i, l := range next {
		seqs[i] = l.seq
	}
	logits, err := s.eng.step(seqs, tokens)
	if err != nil {
		for _, l := range next {
			l.out <- event{err: err}
		}
		return next[:0]
	}
	for i, l := range next {
		l.logits = logits[i]
	}
	return next
}

// load returns the number of requests running and waiting.
func (s *scheduler) load() (running, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, len(s.queue)
}
