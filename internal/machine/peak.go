package machine

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goformer/goformer/internal/cpufeat"
)

// Width names a vector width the peak loops can run at.
type Width string

const (
	ZMM    Width = "zmm"    // AVX-512, 16 float32 lanes
	YMM    Width = "ymm"    // AVX2 + FMA, 8 lanes
	NEON   Width = "neon"   // arm64 Advanced SIMD, 4 lanes
	Scalar Width = "scalar" // plain Go, one lane (not fused on amd64: a bound for the purego build)
)

// chains is the number of independent accumulators of each loop. A core needs latency ×
// FMA units of them in flight to issue an FMA every cycle on every unit: 4 × 2 = 8 on Intel
// Skylake-SP to Granite Rapids and on AMD Zen 4/5, 5 × 2 = 10 on Haswell, 4 × 4 = 16 on the
// widest arm64 cores. More chains than that cost nothing, too few hide half the machine.
var chains = map[Width]int{ZMM: 24, YMM: 14, NEON: 24, Scalar: 8}

// lanes is the number of float32 values per vector.
var lanes = map[Width]int{ZMM: 16, YMM: 8, NEON: 4, Scalar: 1}

// PeakWidths lists the widths this machine can run, widest first.
func PeakWidths() []Width {
	var ws []Width
	if cpufeat.AVX512F && haveFMAAsm {
		ws = append(ws, ZMM)
	}
	if cpufeat.AVX2FMA && haveFMAAsm {
		ws = append(ws, YMM)
	}
	if runtime.GOARCH == "arm64" && haveFMAAsm {
		ws = append(ws, NEON)
	}
	return append(ws, Scalar)
}

// fmaLoop runs iters iterations of acc[c] += x·y on every chain c of width w, each chain's
// vector starting with all lanes equal to acc[c], and leaves lane 0 of each chain in acc[c]
// (acc has at least chains[w] elements).
func fmaLoop(w Width, iters int, x, y float32, acc []float32) {
	n := chains[w]
	_ = acc[n-1]
	switch w {
	case Scalar:
		fmaGo(iters, x, y, (*[8]float32)(acc))
	default:
		fmaAsm(w, iters, x, y, acc)
	}
}

// fmaGo is the portable loop: eight chains of a += x*y (the compiler fuses it on arm64, not on
// amd64, so it measures the Go code the purego kernels are made of rather than a hardware peak).
func fmaGo(iters int, x, y float32, acc *[8]float32) {
	a0, a1, a2, a3, a4, a5, a6, a7 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
	for range iters {
		a0 += x * y
		a1 += x * y
		a2 += x * y
		a3 += x * y
		a4 += x * y
		a5 += x * y
		a6 += x * y
		a7 += x * y
	}
	*acc = [8]float32{a0, a1, a2, a3, a4, a5, a6, a7}
}

// FMAPeak measures the float32 FMA throughput of width w on threads goroutines at once (each
// locked to its own OS thread), in GFLOP/s (an FMA is 2 flops per lane). It runs samples of
// about a millisecond for about budget and returns the best.
func FMAPeak(w Width, threads int, budget time.Duration) float64 {
	const iters = 1 << 14 // ~0.2 ms of zmm FMAs per chain set at 4 GHz: short enough to dodge interruptions
	flops := 2 * float64(iters) * float64(chains[w]*lanes[w]*threads)
	best := bestOf(threads, budget, func(int) {
		var acc [24]float32
		fmaLoop(w, iters, 1, 1, acc[:])
	})
	return flops / best.Seconds() / 1e9
}

// bestOf runs fn on threads goroutines, each locked to its own OS thread, in rounds that start
// together (a spinning barrier) for about budget, at least three rounds, and returns the shortest
// wall time of one round, from the common start until the last thread is done. fn gets the
// thread's index.
func bestOf(threads int, budget time.Duration, fn func(thread int)) time.Duration {
	threads = max(threads, 1)
	b := barrier{n: int64(threads)}
	var stop atomic.Bool
	best := time.Duration(1<<63 - 1)
	var wg sync.WaitGroup
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start := time.Now()
			for round := 0; ; round++ {
				b.wait()
				t0 := time.Now()
				fn(t)
				b.wait()
				if t == 0 {
					best = min(best, time.Since(t0))
					stop.Store(round >= 2 && time.Since(start) >= budget)
				}
				b.wait() // the others read stop only after thread 0 has set it
				if stop.Load() {
					return
				}
			}
		}()
	}
	wg.Wait()
	return best
}

// barrier is a reusable spinning barrier for n goroutines: parking and waking threads would
// take longer than the ~0.1 ms samples it separates.
type barrier struct {
	n          int64
	count, gen atomic.Int64
}

func (b *barrier) wait() {
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.gen.Add(1)
		return
	}
	for spin := 0; b.gen.Load() == g; spin++ {
		if spin%128 == 127 {
			runtime.Gosched() // more threads than free cores: let the late one run
		}
	}
}

// Describe names the CPU and its caches in one line, as CPUID reports them.
func Describe() string {
	var b strings.Builder
	brand := cpufeat.Brand
	if brand == "" {
		brand = runtime.GOARCH
	}
	fmt.Fprintf(&b, "%s", brand)
	if cpufeat.Vendor != "" {
		fmt.Fprintf(&b, " (%s family %d model %d stepping %d)", cpufeat.Vendor, cpufeat.Family, cpufeat.Model, cpufeat.Stepping)
	}
	fmt.Fprintf(&b, ", %d logical CPUs", runtime.NumCPU())
	for _, c := range cpufeat.Caches {
		fmt.Fprintf(&b, ", L%d %s %d-way", c.Level, size(c.Size), c.Ways)
		if c.SharedBy > 1 {
			fmt.Fprintf(&b, " shared by %d", c.SharedBy)
		}
	}
	switch {
	case cpufeat.AVX512F:
		b.WriteString(", AVX-512")
	case cpufeat.AVX2FMA:
		b.WriteString(", AVX2+FMA")
	}
	return b.String()
}

func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
