package gemm

import (
	"sync"
	"sync/atomic"

	"github.com/goformer/goformer/internal/parallel"
)

// sharedBMax (a variable for tests) bounds the packed op(B) buffer that the workers of one product
// share, in floats (4 MiB): K is processed in groups of kc blocks whose
// packed panels fit in it.
var sharedBMax = 1 << 20

// sharedJob is one product computed by several goroutines that share the
// packed op(B). The columns are cut into nc blocks and K into groups of kc
// blocks; for each (column block, K group) round the workers first pack the
// kb×nr panels of op(B) together (handing out panels through a counter),
// wait until all are packed, then take output tiles of the block, each
// worker its own run of them first (parallel.Tasks). No tile is split over K
// and each tile sums its K blocks in ascending order, so the result does not
// depend on the worker count; and a goroutine that starts late simply finds
// less work left.
type sharedJob struct {
	kn     *microKernel
	p      problem
	b      []float32 // packed op(B) of the current round
	kc     int       // K block (kn.kBlock)
	kGroup int       // K extent of a round, a multiple of kc
	grid   grid      // output tiles of a column block (columns relative to it)
	rounds []round
}

// round holds the counters of one (column block, K group) round.
type round struct {
	jc, nb, pg, kg     int // column block and K group
	tiles              int
	packNext, packDone atomic.Int64
	tileTasks          parallel.Tasks // each worker's own run of tiles first (see parallel.For)
	tileDone           atomic.Int64
}

var sharedJobPool = sync.Pool{New: func() any { return new(sharedJob) }}

// sgemmShared runs one product on up to workers goroutines with op(B)
// packed once and shared.
func (kn *microKernel) sgemmShared(p *problem, workers int) {
	j := sharedJobPool.Get().(*sharedJob)
	j.kn, j.p = kn, *p
	nbMax := min(kn.nc, roundUp(p.n, kn.nr))
	j.kc = kn.kBlock(p)
	j.kGroup = max(j.kc, sharedBMax/nbMax/j.kc*j.kc)
	need := min(j.kGroup, roundUp(p.k, j.kc)) * nbMax
	if len(j.b) < need {
		j.b = make([]float32, need)
	}
	nRounds := ((p.n + kn.nc - 1) / kn.nc) * ((p.k + j.kGroup - 1) / j.kGroup)
	if cap(j.rounds) < nRounds {
		j.rounds = make([]round, nRounds)
	}
	j.rounds = j.rounds[:nRounds]
	j.grid = kn.tileGrid(p.m, nbMax, workers)
	i := 0
	for jc := 0; jc < p.n; jc += kn.nc {
		nb := min(kn.nc, p.n-jc)
		for pg := 0; pg < p.k; pg += j.kGroup {
			r := &j.rounds[i]
			r.jc, r.nb, r.pg, r.kg = jc, nb, pg, min(j.kGroup, p.k-pg)
			r.tiles = j.grid.rows * ((nb + j.grid.colStep - 1) / j.grid.colStep)
			r.packNext.Store(0)
			r.packDone.Store(0)
			r.tileTasks.Init(r.tiles, workers)
			r.tileDone.Store(0)
			i++
		}
	}
	parallel.Run(j, workers)
	j.p = problem{} // drop the references to the caller's slices
	sharedJobPool.Put(j)
}

// tileGrid cuts an m×n block into tiles for the shared-B path. Every tile
// reads op(A) in place (or packs only its own rows) and the already packed
// op(B), so the cut is only about balance and cache reuse: about three tiles
// per worker, along the longer side.
func (kn *microKernel) tileGrid(m, n, workers int) grid {
	return kn.split(m, n, tilesPerWorker*workers)
}

// tilesPerWorker is the number of tiles per worker in the shared-B path:
// more balance the load on a busy machine, fewer reuse each B panel more.
const tilesPerWorker = 3

func (j *sharedJob) Run(worker int) {
	kn, p := j.kn, &j.p
	ws := getWorkspace(kn)
	nr, kc := kn.nr, j.kc
	direct := kn.directA(p)
	for ri := range j.rounds {
		r := &j.rounds[ri]
		if ri > 0 {
			// The buffer is reused: every tile of the previous round must
			// be finished before it is overwritten.
			prev := &j.rounds[ri-1]
			for spin := 0; prev.tileDone.Load() < int64(prev.tiles); spin++ {
				parallel.Pause(spin)
			}
		}
		nbPad := roundUp(r.nb, nr)
		panels := nbPad / nr
		kBlocks := (r.kg + kc - 1) / kc
		units := int64(kBlocks * panels)
		for {
			u := r.packNext.Add(1) - 1
			if u >= units {
				break
			}
			q, jr := int(u)/panels, int(u)%panels*nr
			pc := r.pg + q*kc
			kb := min(kc, p.k-pc)
			packB(p, pc, kb, r.jc+jr, min(nr, r.nb-jr), nr, j.b[q*kc*nbPad+jr*kb:])
			r.packDone.Add(1)
		}
		for spin := 0; r.packDone.Load() < units; spin++ {
			parallel.Pause(spin)
		}
		g := j.grid
		g.n = r.nb
		g.cols = (r.nb + g.colStep - 1) / g.colStep
		for {
			t, ok := r.tileTasks.Take(worker)
			if !ok {
				break
			}
			i0, i1, j0, j1 := g.tile(t)
			for ic := i0; ic < i1; ic += kn.mc {
				mb := min(kn.mc, i1-ic)
				for q := 0; q < kBlocks; q++ {
					pc := r.pg + q*kc
					kb := min(kc, p.k-pc)
					acc := p.accumulate || pc > 0
					kn.macroKernel(p, ws, ic, mb, pc, kb, j.b[q*kc*nbPad:], j0, j1, p.c[ic*p.ldc+r.jc:], acc, direct)
				}
			}
			r.tileDone.Add(1)
		}
	}
	workspacePool.Put(ws)
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }
