package machine

import (
	"sync"
	"time"
)

// ReadBandwidth measures the streaming read bandwidth in GB/s (10⁹ bytes per second): threads
// goroutines, each locked to an OS thread, sum disjoint parts of one array of about bytes bytes
// (make it several times the last-level cache, or the figure is the cache's). It returns the
// best of its passes over about a second (at least three). Decoding a model whose weights do not fit in cache is bounded by it.
func ReadBandwidth(threads, bytes int) float64 {
	n := bytes / 4 / (64 * threads) * (64 * threads) // each part a multiple of 64 floats
	if n == 0 {
		n = 64 * threads
	}
	data := make([]float32, n)
	part := n / threads
	// Touch every page in parallel, as the reading threads will, so first-touch placement
	// follows them on a multi-socket machine.
	var wg sync.WaitGroup
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := data[t*part : (t+1)*part]
			for i := range s {
				s[i] = 1
			}
		}()
	}
	wg.Wait()
	sums := make([]float32, threads*16) // per thread, a cache line apart
	passes := 0
	best := bestOf(threads, time.Second, func(t int) {
		sums[t*16] += sumFloats(data[t*part : (t+1)*part])
		if t == 0 {
			passes++
		}
	})
	if sums[0] != float32(part*passes) && part < 1<<24 {
		panic("machine: the read loop skipped data") // float32 sums are exact below 2²⁴
	}
	return float64(n*4) / best.Seconds() / 1e9
}

// sumGo is the portable reading loop: eight independent sums so the adds do not wait on each
// other. len(x) is a multiple of 64.
func sumGo(x []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for i := 0; i+8 <= len(x); i += 8 {
		v := (*[8]float32)(x[i:])
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}
