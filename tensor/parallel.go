package tensor

import (
	"runtime"
	"sync/atomic"

	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/internal/parallel"
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
// goroutine: handing work to a helper costs a few microseconds, so small loops are faster serial.
const minParallelWork = 1 << 15

// parallelFor splits [0, n) into chunks and runs body on each, on the shared helper pool when
// n·costPerItem is large enough to pay for the hand-off. body must only write to its own items.
func parallelFor(n, costPerItem int, body func(lo, hi int)) {
	w := Workers()
	if w <= 1 || n*costPerItem < minParallelWork {
		if n > 0 {
			body(0, n)
		}
		return
	}
	parallel.For(n, w, body)
}
