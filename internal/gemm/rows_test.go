package gemm

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// A group of row products gives each product's Sgemm bits, whether it runs on one worker or is
// split (the matrices here are large enough to be), with a bias to accumulate onto or not, rows
// of B further apart than K, and K a multiple of 16 or not (the dot kernels' tail).
func TestSgemvTGroupIsEachSgemm(t *testing.T) {
	defer SetWorkers(0)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{256, 250} {
		x := randSlice(rng, k)
		shapes := []struct {
			n, ldb int
			acc    bool
		}{{300, k, false}, {100, k + 5, true}, {517, k, true}, {64, k, false}}
		var ps []RowProduct
		var want [][]float32
		for _, s := range shapes {
			b := randSlice(rng, (s.n-1)*s.ldb+k)
			c := randSlice(rng, s.n)
			w := slices.Clone(c)
			Sgemm(false, true, 1, s.n, k, x, k, b, s.ldb, w, s.n, s.acc)
			ps = append(ps, RowProduct{B: b, N: s.n, Ldb: s.ldb, C: c, Accumulate: s.acc})
			want = append(want, w)
		}
		require.True(t, splitThin(2, 0, 4*float64(981*k)), "the group is large enough to split")
		for _, workers := range []int{1, 2, 3} {
			SetWorkers(workers)
			got := make([]RowProduct, len(ps))
			for i, p := range ps {
				got[i] = p
				got[i].C = slices.Clone(p.C)
			}
			SgemvTGroup(k, x, got)
			for i := range got {
				require.Equal(t, want[i], got[i].C, "k %d, product %d, workers %d", k, i, workers)
			}
		}
	}
}
