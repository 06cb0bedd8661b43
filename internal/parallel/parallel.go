// Package parallel runs work on a small pool of persistent helper goroutines shared by the
// kernels (matrix products, element-wise loops). Waking a parked goroutine takes tens of
// microseconds on a busy or virtualised machine, about as long as a small kernel call, so helpers
// stay awake briefly after each job, and a call never waits for a helper that is slow to arrive:
// the caller works too, and whatever part of a job no helper has taken by the time the caller
// runs out of work is simply not theirs to do. Work is handed out so that each worker keeps to the
// same part of the data from one call to the next (Tasks), since a core reads what another core
// has just written far more slowly than what it wrote itself.
package parallel

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Job is work that several goroutines run at once, each calling Run with its worker number (the
// caller 0, helpers 1, 2, … in the order they arrive); it must itself hand out its parts (through
// counters) so that any number of them, arriving at any time, complete it.
type Job interface{ Run(worker int) }

// ticket is one Run call as its helpers see it. Helpers that are
// slow to wake must not hold the caller up: once the caller has run out of
// work it closes the ticket, and a helper arriving after that leaves at
// once without touching the job. state counts the helpers inside run, with
// ticketClosed set once the caller is done.
type ticket struct {
	state   atomic.Int64
	arrived atomic.Int64 // helpers that have entered, for their worker numbers
	j       Job
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
			t.j.Run(int(t.arrived.Add(1)))
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
		j.Run(0)
		return
	}
	t := &ticket{j: j}
	for w := 1; w < workers; w++ {
		handOff(t)
	}
	j.Run(0)
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
// being one), and returns when all are done, with about four chunks per worker. body must only
// write to the items of its own chunk.
//
// Each worker has a home range of the chunks, the caller the first ones, and takes its own in
// order before it helps with another's, from that range's far end. So the caller handles the
// same leading part of every array call after call, and the helper the same trailing part: on a
// 2-vCPU Zen 5 VM, reading 400 KB that the other core has just written runs at a fifth of the
// speed of reading it back on the core that wrote it (35–38 against 174–209 GB/s, measured by
// internal/machine's HandOffRead), and consecutive
// kernels over the same rows (a product's output, then its bias, activation, the next product)
// find their rows where they left them. A core slowed by other load still takes fewer chunks.
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
	size := (n + chunks - 1) / chunks
	chunks = (n + size - 1) / size
	j := &forJob{n: n, chunk: size, body: body}
	j.tasks.Init(chunks, workers)
	Run(j, workers)
}

type forJob struct {
	n, chunk int
	body     func(lo, hi int)
	tasks    Tasks
}

func (j *forJob) Run(worker int) {
	for {
		c, ok := j.tasks.Take(worker)
		if !ok {
			return
		}
		lo := c * j.chunk
		j.body(lo, min(lo+j.chunk, j.n))
	}
}

// Tasks hands out task numbers [0, n) to workers (see For): each worker takes its home range,
// n·w/workers to n·(w+1)/workers, from the front, then the others' from their far ends.
type Tasks struct {
	homes []homeRange
	few   [4]homeRange // homes' storage for up to 4 workers, without an allocation a call
}

// Init sets n tasks for up to workers workers (at least one), all untaken.
func (t *Tasks) Init(n, workers int) {
	workers = max(workers, 1)
	if t.homes == nil && workers <= len(t.few) {
		t.homes = t.few[:]
	}
	if cap(t.homes) < workers {
		t.homes = make([]homeRange, workers)
	}
	t.homes = t.homes[:workers]
	for w := range workers {
		t.homes[w].set(n*w/workers, n*(w+1)/workers)
	}
}

// Take returns a task for worker (its number in Run; numbers past the workers Init was given
// wrap around), or false once every task is taken.
func (t *Tasks) Take(worker int) (int, bool) {
	w := worker % len(t.homes)
	if c, ok := t.homes[w].take(true); ok {
		return c, true
	}
	for d := 1; d < len(t.homes); d++ {
		if c, ok := t.homes[(w+d)%len(t.homes)].take(false); ok {
			return c, true
		}
	}
	return 0, false
}

// homeRange is a worker's untaken tasks [lo, hi), both in one word: the owner takes from the
// front, others from the back.
type homeRange struct{ state atomic.Uint64 }

func (h *homeRange) set(lo, hi int) { h.state.Store(uint64(lo) | uint64(hi)<<32) }

// take takes the first untaken task (front) or the last one.
func (h *homeRange) take(front bool) (int, bool) {
	for {
		s := h.state.Load()
		lo, hi := uint32(s), uint32(s>>32)
		if lo >= hi {
			return 0, false
		}
		c, next := hi-1, uint64(lo)|uint64(hi-1)<<32
		if front {
			c, next = lo, uint64(lo+1)|uint64(hi)<<32
		}
		if h.state.CompareAndSwap(s, next) {
			return int(c), true
		}
	}
}

// Pause is one step of a wait for other workers: a short busy wait first,
// then yielding the processor (there may be more workers than Ps).
func Pause(spin int) {
	if spin >= 1000 {
		runtime.Gosched()
	}
}
