package gemm

import "github.com/goformer/goformer/internal/cpufeat"

// Cache blocking from the cache sizes the CPU reports (the analytical model of BLIS, Low et al.
// 2016, "Analytical modeling is enough for high-performance BLIS"), rather than constants tuned
// on one machine. The loop nest (gemm.go) keeps a kc×nr micro-panel of packed B in L1 while
// mr-row micro-panels of A stream past it from L2, an mc×kc block of A in L2 while every B
// micro-panel of a column block passes, and the kc×nc block of packed B in L3.

// cacheLevel is the geometry of one cache level as the model uses it.
type cacheLevel struct {
	size, ways, line int
	sharedBy         int // cores (logical CPUs) sharing it
}

func (c cacheLevel) sets() int { return c.size / (c.ways * c.line) }

// caches is the machine's L1D, L2 and L3 as the model sees them.
type caches struct{ l1, l2, l3 cacheLevel }

// defaultCaches stand in for what CPUID does not report (other architectures, purego builds,
// odd hypervisors): a 32 KiB 8-way L1D, 512 KiB 8-way L2 and 2 MiB of L3 per core, small enough
// for any core of the last ten years.
var defaultCaches = caches{
	l1: cacheLevel{32 << 10, 8, 64, 1},
	l2: cacheLevel{512 << 10, 8, 64, 1},
	l3: cacheLevel{2 << 20, 16, 64, 1},
}

// detectedCaches reads cpufeat's description, falling back level by level to defaultCaches.
func detectedCaches() caches {
	c := defaultCaches
	get := func(level int, dst *cacheLevel) {
		if d, ok := cpufeat.DataCache(level); ok && d.Size > 0 && d.Ways > 0 && d.LineSize > 0 {
			*dst = cacheLevel{d.Size, d.Ways, d.LineSize, max(d.SharedBy, 1)}
		}
	}
	get(1, &c.l1)
	get(2, &c.l2)
	get(3, &c.l3)
	return c
}

// machineCaches is what this process's kernels are blocked for.
var machineCaches = detectedCaches()

// blocks returns kc, mc and nc for an mr×nr micro-kernel on caches c.
//
//   - kc: the B micro-panel (kc×nr floats) takes 32 KiB, or the whole L1 if that is smaller:
//     kc = 256 for nr = 32. On a 48 KiB 12-way L1 (Golden Cove, Zen 5) that is 8 ways, leaving
//     4 for the A micro-panels that stream past (12×256 floats, 3 ways): BLIS's analytical
//     model exactly. On Zen 4's 32 KiB 8-way L1 the model would leave A a way and give kc = 128,
//     but measured there (CPU time, 1 thread, 8×32) kc = 256 beats 192 by 2-3% and 128 by 3-6%
//     at 512-2048: at one 512-bit FMA per cycle its L2 refills the B lines A evicts in time, and
//     the longer k loop amortises the C tile's load, store and prefetch.
//   - mc: the A block (mc×kc) takes half of L2, the rest holding the B micro-panels on their way
//     to L1 and the C tiles.
//   - nc: the packed B block (kc×nc) takes half of this core's share of L3.
//
// kc is a multiple of 16 (whole cache lines of a k step of A read in place), mc of mr, nc of nr;
// each has a floor so that a tiny or unreported cache cannot make the blocks degenerate. kc
// depends on nr and L1 only, so kernels with the same nr sum in the same blocks (same bits).
func blocks(mr, nr int, c caches) (kc, mc, nc int) {
	kc = min(32<<10, c.l1.size) / (4 * nr)
	kc = clamp(kc/16*16, 64, 512)
	mc = c.l2.size / 2 / (4 * kc)
	mc = clamp(mc/mr*mr, 4*mr, 96*mr)
	l3 := c.l3.size / max(c.l3.sharedBy, 1)
	nc = l3 / 2 / (4 * kc)
	nc = clamp(nc/nr*nr, 16*nr, 128*nr)
	return kc, mc, nc
}

func clamp(x, lo, hi int) int { return min(max(x, lo), hi) }

// withBlocks returns kn with its cache blocks set for caches c.
func withBlocks(kn *microKernel, c caches) *microKernel {
	kn.kc, kn.mc, kn.nc = blocks(kn.mr, kn.nr, c)
	return kn
}

// aRowsAlias reports whether reading rows of A that are strideBytes apart in place would
// make mr rows compete for the same L1 sets beyond what the B micro-panel leaves free: a row
// stride that is a multiple of 4 KiB (lda = 1024, 2048 ...) puts all mr rows in one set, so
// they evict each other and B on every k step. Then the rows are packed instead.
func aRowsAlias(strideBytes, mr int, kn *microKernel, l1 cacheLevel) bool {
	sets := l1.sets()
	if sets <= 0 || l1.line <= 0 {
		return false
	}
	way := l1.size / l1.ways
	bWays := (kn.kc*kn.nr*4 + way - 1) / way
	free := max(l1.ways-bWays, 1)
	for i := range mr {
		si, same := i*strideBytes/l1.line%sets, 1
		for j := range i {
			if j*strideBytes/l1.line%sets == si {
				same++
			}
		}
		if same > free {
			return true
		}
	}
	return false
}
