package optim

import (
	"fmt"
	"strconv"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/internal/hooks"
	"github.com/goformer/goformer/internal/parallel"
	"github.com/goformer/goformer/tensor"
)

// span is a range of elements [lo, hi) of parameter i, one unit of parallel work.
type span struct{ i, lo, hi int }

// spanSize is the number of elements one goroutine takes at a time: large enough that starting
// it is cheap next to the work (an AdamW element costs a few nanoseconds), small enough that one
// big embedding table still splits across all workers.
const spanSize = 1 << 15

// forEachSpan calls f on every element range of the parameters whose index passes keep, splitting
// big parameters and running on up to tensor.Workers() goroutines when there is enough work.
// Element updates are independent, so the split never changes a result.
func forEachSpan(sizes []int, keep func(i int) bool, f func(s span)) {
	var spans []span
	total := 0
	for i, n := range sizes {
		if !keep(i) {
			continue
		}
		for lo := 0; lo < n; lo += spanSize {
			spans = append(spans, span{i, lo, min(lo+spanSize, n)})
		}
		total += n
	}
	w := min(tensor.Workers(), len(spans))
	if w <= 1 || total < 2*spanSize {
		for _, s := range spans {
			f(s)
		}
		return
	}
	// One span a chunk, on the kernels' pool of helpers: the caller works too, and no goroutine
	// is started per step.
	parallel.ForChunks(len(spans), w, len(spans), func(lo, hi int) {
		for _, s := range spans[lo:hi] {
			f(s)
		}
	})
}

// checkParams panics on a nil or repeated parameter: a repeated one would be updated twice per step.
func checkParams(op string, params []*autograd.Var) {
	seen := make(map[*autograd.Var]bool, len(params))
	for i, p := range params {
		if p == nil || p.Value == nil {
			panic(fmt.Sprintf("optim.%s: parameter %d is nil", op, i))
		}
		if seen[p] {
			panic(fmt.Sprintf("optim.%s: parameter %d (shape %v) appears twice", op, i, p.Value.Shape()))
		}
		seen[p] = true
	}
}

// grads reaches the parameters' gradients without handing them out (Var.Grad would), so that
// ZeroGrad can recycle their storage: the optimisers keep no reference past their call.
var grads = hooks.Lookup[hooks.Grads[autograd.Var, tensor.Tensor]]()

// gradData returns p's gradient as a slice matching p.Value.Data() (autograd keeps gradients
// contiguous and of their parameter's shape), or nil if p has none.
func gradData(p *autograd.Var) []float32 {
	if g := grads.Read(p); g != nil {
		return g.Data()
	}
	return nil
}

func sizes(params []*autograd.Var) []int {
	s := make([]int, len(params))
	for i, p := range params {
		s[i] = p.Value.Size()
	}
	return s
}

// decimal widens a float32 hyperparameter to the float64 nearest the shortest decimal that rounds
// to it: for 0.95 it gives the double 0.95, not 0.949999988079071. PyTorch receives
// hyperparameters as Python floats (doubles) and forms 1−β, β^t and lr·wd in double precision;
// widening this way makes those scalars the same doubles PyTorch computes for the same config.
func decimal(f float32) float64 {
	d, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return d
}
