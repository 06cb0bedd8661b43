package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestSgemmBiasMatchesFillThenAccumulate checks C = bias + op(A)·op(B) against its definition:
// every row of C filled with the bias, then Sgemm with accumulate. The bits must agree, for every
// kernel (with its real blocks and with blocks small enough that the shapes cross K, row and
// column blocks), in every transpose form, with edge tiles and narrow column panels, on the thin
// path, and for 1 to 7 workers.
func TestSgemmBiasMatchesFillThenAccumulate(t *testing.T) {
	defer SetWorkers(Workers())
	defer func(k *microKernel) { activeKernel = k }(activeKernel)
	tunedKernel() // settle the timing choice first, so that it cannot replace activeKernel below
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := []shape{
		{false, true, 768, 384, 128}, // a Linear layer's forward pass
		{false, true, 200, 65, 300},  // narrow last panel, K past kc
		{false, false, 37, 70, 9},
		{true, false, 130, 96, 257},
		{true, true, 97, 33, 40},
		{false, true, 3, 50, 64}, // thin
		{false, true, 20, 50, 0}, // K = 0: C is the bias
	}
	for _, real := range supportedKernels() {
		for _, kn := range []*microKernel{real, smallBlocks(real)} {
			activeKernel = kn
			for _, s := range shapes {
				a, b, c := operands(rng, s, 0)
				bias := randSlice(rng, s.n)
				want := c.clone()
				for i := range s.m {
					copy(want.data[i*want.ld:i*want.ld+s.n], bias)
				}
				SetWorkers(1)
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, want.data, want.ld, true)
				for _, w := range []int{1, 2, 3, 7} {
					SetWorkers(w)
					got := c.clone()
					SgemmBias(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, bias, got.data, got.ld)
					requireBitwiseEqual(t, want.data, got.data, "%s %v workers=%d", kn.name, s, w)
				}
			}
		}
	}
}
