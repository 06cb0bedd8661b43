package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/goformer/goformer/internal/gemm"
)

var workers atomic.Int32

// SetWorkers sets how many goroutines the heavy kernels use; n <= 0 restores the default,
// runtime.GOMAXPROCS(0). Results do not depend on it beyond float rounding.
func SetWorkers(n int) {
	if n <= 0 {
		n = 0
	}
	workers.Store(int32(n))
	gemm.SetWorkers(n)
}

// Workers returns the number of goroutines the heavy kernels use.
func Workers() int {
	if n := int(workers.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// minParallelWork is the number of element-operations below which a kernel stays on one
// goroutine: starting goroutines costs about a microsecond, so small loops are faster serial.
const minParallelWork = 1 << 15

// parallelFor splits [0, n) into contiguous chunks and runs body on each, in parallel when
// n·costPerItem is large enough to pay for the goroutines. body must only write to its own items.
func parallelFor(n, costPerItem int, body func(lo, hi int)) {
	w := Workers()
	if w > n {
		w = n
	}
	if w <= 1 || n*costPerItem < minParallelWork {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}
