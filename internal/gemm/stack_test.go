package gemm

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// A stacked matrix's product is its parts' products side by side, bit for bit, in both formats
// and at one row and several (each output depends on its own weight row and input row alone).
func TestStackRowsComputesThePartsProducts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const k = 96
	sizes := []int{40, 17, 17}
	for _, format := range []Format{BF16, Int8} {
		var parts []*Compact
		for _, n := range sizes {
			w := randSlice(rng, n*k)
			if format == BF16 {
				parts = append(parts, NewBF16(w, n, k))
			} else {
				c, err := NewInt8(w, n, k)
				require.NoError(t, err)
				parts = append(parts, c)
			}
		}
		whole := StackRows(parts...)
		require.Equal(t, 74, whole.n)
		for _, m := range []int{1, 3, 40} {
			a := randSlice(rng, m*k)
			got := make([]float32, m*whole.n)
			MulCompactT(m, a, k, whole, got, whole.n)
			lo := 0
			for _, p := range parts {
				want := make([]float32, m*p.n)
				MulCompactT(m, a, k, p, want, p.n)
				for i := range m {
					require.Equal(t, want[i*p.n:(i+1)*p.n], got[i*whole.n+lo:i*whole.n+lo+p.n], "%v m=%d", format, m)
				}
				lo += p.n
			}
		}
	}
	require.Panics(t, func() { StackRows(NewBF16(make([]float32, 4), 2, 2), NewBF16(make([]float32, 6), 2, 3)) })
}
