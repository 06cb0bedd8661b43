package gemm

import (
	"runtime"
	"sync/atomic"

	"github.com/goformer/goformer/internal/parallel"
)

// parallelMinFlops is the size below which a product runs on the calling
// goroutine alone: starting goroutines costs a few microseconds, about what
// one core does in ~0.5 MFLOP, so smaller products do not gain from a split.
const parallelMinFlops = 2e6

// parallelMinBytes is the size of weights above which a thin product (a few rows of A, as in
// decoding) is split even when it has fewer flops than parallelMinFlops: such a product streams
// its weights from memory at a few bytes a flop, so 256 KiB take tens of microseconds on one core,
// well above the cost of a split, and one core alone reaches only part of the memory bandwidth
// (on a 2-vCPU Zen 5, 24 GB/s against 51 GB/s on two). Without it, every product of a
// SmolLM2-135M layer (576 wide) ran on one core while decoding.
const parallelMinBytes = 256 << 10

// splitThin reports whether a thin product of these flops over weights of these bytes is worth
// splitting across workers.
func splitThin(workers int, flops, weightBytes float64) bool {
	return workers > 1 && (flops >= parallelMinFlops || weightBytes >= parallelMinBytes)
}

// thinChunkBytes is about how much of the weights each chunk of a split thin product streams:
// fewer, longer chunks let each core read long runs in order that the prefetchers follow, while a
// large matrix (the vocabulary head) still comes in several chunks per worker, so that a core
// slowed by other load takes fewer. On a 2-vCPU Zen 5, a SmolLM2-135M int8 decode step ran 25%
// slower with 32 chunks a product than with 8, and a few percent faster with its 576-wide
// matrices (330 KiB in int8) in two or three.
const thinChunkBytes = 256 << 10

// thinFor runs body over the n columns of a split thin product whose weights take weightBytes.
func thinFor(n, workers int, weightBytes float64, body func(lo, hi int)) {
	parallel.ForChunks(n, workers, min(4*workers, int(weightBytes/thinChunkBytes)), body)
}

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
// handed out as parallel.For hands out chunks: each worker starts on its own
// run of them (the caller the first rows), so consecutive kernels find their
// rows in the cache of the core that wrote them, and a core slowed by other
// load takes fewer.
func parallelFor(tasks, workers int, fn func(t int, ws *workspace), kn *microKernel) {
	workers = min(workers, tasks)
	j := &forJob{fn: fn, kn: kn}
	j.tasks.Init(tasks, workers)
	parallel.Run(j, workers)
}

type forJob struct {
	tasks parallel.Tasks
	fn    func(t int, ws *workspace)
	kn    *microKernel
}

func (j *forJob) Run(worker int) {
	ws := getWorkspace(j.kn)
	for {
		t, ok := j.tasks.Take(worker)
		if !ok {
			break
		}
		j.fn(t, ws)
	}
	workspacePool.Put(ws)
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
