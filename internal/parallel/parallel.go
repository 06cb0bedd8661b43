// Package parallel runs work on a small pool of persistent helper goroutines shared by the
// kernels (matrix products, element-wise loops). Waking a parked goroutine takes tens of
// microseconds on a busy or virtualised machine, about as long as a small kernel call, so helpers
// stay awake briefly after each job, and a call never waits for a helper that is slow to arrive:
// the caller works too, and whatever part of a job no helper has taken by the time the caller
// runs out of work is simply not theirs to do.
package parallel

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Job is work that several goroutines run at once, each calling Run; it
// must itself hand out its parts (through counters) so that any number of
// them, arriving at any time, complete it.
type Job interface{ Run() }

// ticket is one Run call as its helpers see it. Helpers that are
// slow to wake must not hold the caller up: once the caller has run out of
// work it closes the ticket, and a helper arriving after that leaves at
// once without touching the job. state counts the helpers inside run, with
// ticketClosed set once the caller is done.
type ticket struct {
	state atomic.Int64
	j     Job
}

const ticketClosed = 1 << 40

// enter reports whether the helper may run the job (and then must leave).
func (t *ticket) enter() bool {
	if t.state.Add(1)&ticketClosed != 0 {
		t.state.Add(-1)
		return false
	}
	return true
}

func (t *ticket) leave() { t.state.Add(-1) }

// helpers is the persistent pool: idle helper goroutines wait on it.
// Sends are non-blocking, so when no helper is idle a new one is started
// (which then stays in the pool): a call never waits for a busy helper,
// and starting goroutines for each call is avoided in the steady state.
var helpers = make(chan *ticket)

// Waking a parked goroutine takes tens of microseconds on a busy or
// virtualised machine, as long as a small product takes. So a helper that
// finishes a job first stays awake for helperSpin, polling spinQ, where
// Run hands tickets to helpers it has claimed from spinning (each
// claim decrements spinning); only then does it park on helpers.
var (
	spinQ    = make(chan *ticket, 64)
	spinning atomic.Int32
)

// 300 µs rather than 50: a decoding step of a SmolLM2-shaped model runs 210 small products with
// norms, rotations and attention between them, and at 50 µs three in ten hand-offs found the helper
// parked (float32 decode 41-45 tok/s; 50-52 at 300 µs; 46-47 at 1 ms, where helpers started for
// earlier jobs spin beside the caller; AMD EPYC family 26 model 2, 2 vCPUs, 2026-12-05).
const helperSpin = 300 * time.Microsecond

func helper(t *ticket) {
	for {
		if t.enter() {
			t.j.Run()
			t.leave()
		}
		t = awaitTicket()
	}
}

func awaitTicket() *ticket {
	spinning.Add(1)
	start := time.Now()
	for spin := 0; ; spin++ {
		select {
		case t := <-spinQ:
			return t
		default:
		}
		if spin%64 != 63 {
			continue
		}
		if time.Since(start) < helperSpin {
			runtime.Gosched()
			continue
		}
		// Leave the spinning set, unless a caller has already claimed
		// this helper's place: then its ticket is on the way.
		for {
			n := spinning.Load()
			if n == 0 {
				return <-spinQ
			}
			if spinning.CompareAndSwap(n, n-1) {
				return <-helpers
			}
		}
	}
}

// handOff gives t to one helper: a spinning one if any, else a parked one,
// else a new one.
func handOff(t *ticket) {
	for {
		n := spinning.Load()
		if n == 0 {
			break
		}
		if spinning.CompareAndSwap(n, n-1) {
			spinQ <- t
			return
		}
	}
	select {
	case helpers <- t:
	default:
		go helper(t)
	}
}

// Run runs j on the calling goroutine and up to workers-1 helpers, and
// returns when every goroutine that started on j has returned from it.
func Run(j Job, workers int) {
	if workers <= 1 {
		j.Run()
		return
	}
	t := &ticket{j: j}
	for w := 1; w < workers; w++ {
		handOff(t)
	}
	j.Run()
	t.state.Add(ticketClosed)
	for spin := 0; t.state.Load() != ticketClosed; spin++ {
		Pause(spin)
	}
	// A helper that has not reached the ticket yet (a goroutine started for it and not yet
	// scheduled, or one still waking) holds it for a while: it must not keep the job, and what
	// the job's closures reach (the caller's buffers), alive meanwhile. No helper is inside the
	// job now, and one arriving late leaves without reading j.
	t.j = nil
}

// For calls body on consecutive chunks covering [0, n), on up to workers goroutines (the caller
// being one), and returns when all are done. Chunks are handed out from a shared counter, about
// four per worker, so a core slowed by other load takes fewer. body must only write to the items
// of its own chunk.
func For(n, workers int, body func(lo, hi int)) { ForChunks(n, workers, 4*workers, body) }

// ForChunks is For with about chunks chunks (at least one per worker). Fewer, longer chunks suit
// work that streams from memory: each worker then reads long runs in order, which the hardware
// prefetchers follow, where every new chunk starts a new stream.
func ForChunks(n, workers, chunks int, body func(lo, hi int)) {
	workers = min(workers, n)
	if workers <= 1 {
		if n > 0 {
			body(0, n)
		}
		return
	}
	chunks = min(n, max(chunks, workers))
	Run(&forJob{n: n, chunk: (n + chunks - 1) / chunks, body: body}, workers)
}

type forJob struct {
	next     atomic.Int64
	n, chunk int
	body     func(lo, hi int)
}

func (j *forJob) Run() {
	for {
		lo := int(j.next.Add(int64(j.chunk))) - j.chunk
		if lo >= j.n {
			return
		}
		j.body(lo, min(lo+j.chunk, j.n))
	}
}

// Pause is one step of a wait for other workers: a short busy wait first,
// then yielding the processor (there may be more workers than Ps).
func Pause(spin int) {
	if spin >= 1000 {
		runtime.Gosched()
	}
}
