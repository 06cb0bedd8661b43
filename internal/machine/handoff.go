package machine

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// HandOffRead measures, in GB/s, how fast a core reads an array of about bytes bytes that was
// just written, by itself (same) and by another core (other): the cost of passing data between
// the cores that run consecutive kernels. Two OS threads are pinned to CPUs 0 and 1 (Linux); the
// first writes the array before every sample, then reads it itself or hands it to the second,
// spinning meanwhile, for about budget (at least three samples of each); each figure is the best
// read. ok is false, with no figures, with one CPU (or GOMAXPROCS 1) or where threads cannot be
// pinned.
// The pinned threads end with the measurement (their goroutines exit locked to them).
//
// On a 2-vCPU Zen 5 VM (AMD EPYC family 26 model 2, 2026-12-05), 400 KB read at 174–209 GB/s
// on the core that wrote it and at 35–38 GB/s on the other (three runs of bench/machine): why
// the kernels keep each worker on its own rows (parallel.For).
func HandOffRead(bytes int, budget time.Duration) (same, other float64, ok bool) {
	if runtime.NumCPU() < 2 || runtime.GOMAXPROCS(0) < 2 { // the two threads spin at once
		return 0, 0, false
	}
	n := max(bytes/4/64*64, 64)
	data := make([]float32, n)
	check := func(s float32) {
		if s != float32(n) && n < 1<<24 { // float32 sums of ones are exact below 2²⁴
			panic("machine: the read loop skipped data")
		}
	}
	var turn atomic.Int32 // 1: the writer's; 2: the reader's; 0: stop
	turn.Store(1)
	var pinned [2]bool
	bestSame, bestOther := time.Duration(1<<62), time.Duration(1<<62)
	var wg sync.WaitGroup
	wg.Add(2)
	readerReady := make(chan struct{})
	go func() { // the other core; exits locked, so that its pinned thread ends too
		defer wg.Done()
		runtime.LockOSThread()
		pinned[1] = pinToCPU(1)
		close(readerReady)
		for {
			for turn.Load() == 1 {
			}
			if turn.Load() == 0 {
				return
			}
			t := time.Now()
			s := sumFloats(data)
			bestOther = min(bestOther, time.Since(t))
			check(s)
			turn.Store(1)
		}
	}()
	go func() { // the writing core
		defer wg.Done()
		runtime.LockOSThread()
		pinned[0] = pinToCPU(0)
		<-readerReady
		deadline := time.Now().Add(budget)
		for sample := 0; sample < 6 || time.Now().Before(deadline); sample++ {
			for i := range data { // a store dirties its line even when the value is the same
				data[i] = 1
			}
			if sample%2 == 0 {
				t := time.Now()
				s := sumFloats(data)
				bestSame = min(bestSame, time.Since(t))
				check(s)
				continue
			}
			turn.Store(2)
			for turn.Load() == 2 {
			}
		}
		turn.Store(0)
	}()
	wg.Wait()
	if !pinned[0] || !pinned[1] {
		return 0, 0, false
	}
	gbs := func(d time.Duration) float64 { return float64(n*4) / d.Seconds() / 1e9 }
	return gbs(bestSame), gbs(bestOther), true
}
