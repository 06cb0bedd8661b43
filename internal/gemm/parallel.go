package gemm

import (
	"runtime"
	"sync/atomic"
	"time"
)

// parallelMinFlops is the size below which a product runs on the calling
// goroutine alone: starting goroutines costs a few microseconds, about what
// one core does in ~0.5 MFLOP, so smaller products do not gain from a split.
const parallelMinFlops = 2e6

var workerCount atomic.Int64

// SetWorkers sets the number of goroutines a product may use; n <= 0 means
// runtime.GOMAXPROCS(0), the default. Results do not depend on it.
func SetWorkers(n int) {
	if n < 0 {
		n = 0
	}
	workerCount.Store(int64(n))
}

// Workers reports the number of goroutines a product may use.
func Workers() int {
	if n := int(workerCount.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// parallelFor runs fn(t) for t in [0, tasks) on up to workers goroutines
// (the caller being one of them), each with its own workspace. Tasks are
// handed out from a shared counter so a core slowed by other load takes fewer.
func parallelFor(tasks, workers int, fn func(t int, ws *workspace), kn *microKernel) {
	j := &forJob{tasks: int64(tasks), fn: fn, kn: kn}
	runParallel(j, min(workers, tasks))
}

type forJob struct {
	next  atomic.Int64
	tasks int64
	fn    func(t int, ws *workspace)
	kn    *microKernel
}

func (j *forJob) run() {
	ws := getWorkspace(j.kn)
	for {
		t := j.next.Add(1) - 1
		if t >= j.tasks {
			break
		}
		j.fn(int(t), ws)
	}
	workspacePool.Put(ws)
}

// job is work that several goroutines run at once, each calling run; it
// must itself hand out its parts (through counters) so that any number of
// them, arriving at any time, complete it.
type job interface{ run() }

// ticket is one runParallel call as its helpers see it. Helpers that are
// slow to wake must not hold the caller up: once the caller has run out of
// work it closes the ticket, and a helper arriving after that leaves at
// once without touching the job. state counts the helpers inside run, with
// ticketClosed set once the caller is done.
type ticket struct {
	state atomic.Int64
	j     job
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
// runParallel hands tickets to helpers it has claimed from spinning (each
// claim decrements spinning); only then does it park on helpers.
var (
	spinQ    = make(chan *ticket, 64)
	spinning atomic.Int32
)

const helperSpin = 50 * time.Microsecond

func helper(t *ticket) {
	for {
		if t.enter() {
			t.j.run()
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

// runParallel runs j on the calling goroutine and up to workers-1 helpers,
// and returns when every goroutine that started on j has returned from it.
func runParallel(j job, workers int) {
	if workers <= 1 {
		j.run()
		return
	}
	t := &ticket{j: j}
	for w := 1; w < workers; w++ {
		handOff(t)
	}
	j.run()
	t.state.Add(ticketClosed)
	for spin := 0; t.state.Load() != ticketClosed; spin++ {
		pause(spin)
	}
}

// grid is a split of an m×n output into rows×cols tiles whose boundaries fall
// on micro-tile multiples (so no tile is needlessly ragged).
type grid struct {
	m, n       int
	rowStep    int // rows per tile, a multiple of mr
	colStep    int // columns per tile, a multiple of nr
	rows, cols int
}

func (g grid) count() int { return g.rows * g.cols }

func (g grid) tile(t int) (i0, i1, j0, j1 int) {
	r, c := t/g.cols, t%g.cols
	i0, j0 = r*g.rowStep, c*g.colStep
	return i0, min(i0+g.rowStep, g.m), j0, min(j0+g.colStep, g.n)
}

// split cuts an m×n output into about `parts` tiles. Each tile packs its own
// copy of the B columns it needs (and A rows), so it splits along the
// dimension whose duplicate packing is cheaper: cutting rows repeats the
// packing of B (k×n per tile), cutting columns repeats A (m×k per tile).
func (kn *microKernel) split(m, n, parts int) grid {
	mUnits := (m + kn.mr - 1) / kn.mr
	nUnits := (n + kn.nr - 1) / kn.nr
	var pr, pc int
	if m >= n {
		pr = min(parts, mUnits)
		pc = min((parts+pr-1)/pr, nUnits)
	} else {
		pc = min(parts, nUnits)
		pr = min((parts+pc-1)/pc, mUnits)
	}
	g := grid{m: m, n: n}
	g.rowStep = (mUnits + pr - 1) / pr * kn.mr
	g.colStep = (nUnits + pc - 1) / pc * kn.nr
	g.rows = (m + g.rowStep - 1) / g.rowStep
	g.cols = (n + g.colStep - 1) / g.colStep
	return g
}
