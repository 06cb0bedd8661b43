package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// SoftmaxScaledRow is Scale then SoftmaxRow bit for bit, on every path this CPU runs, for
// lengths around the kernel's 16- and 32-element steps, rows that underflow to zeros, and rows
// with NaN or infinities (left to SoftmaxRow), without writing outside the row.
func TestSoftmaxScaledRowIsScaleThenSoftmax(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for n := 1; n <= 130; n++ {
			for _, c := range []struct {
				name   string
				spread float64
				scale  float32
				poke   float32
			}{
				{"plain", 3, 0.125, 0}, {"wide", 200, 0.7, 0}, {"tiny", 1e-3, 1, 0},
				{"nan", 1, 1, float32(math.NaN())}, {"+inf", 1, 1, float32(math.Inf(1))}, {"-inf", 1, 1, float32(math.Inf(-1))},
			} {
				src := make([]float32, n)
				for i := range src {
					src[i] = float32(rng.NormFloat64() * c.spread)
				}
				if c.poke != 0 {
					src[rng.IntN(n)] = c.poke
				}
				want := make([]float32, n)
				Scale(want, src, c.scale)
				SoftmaxRow(want, want)
				got, buf := guarded(n)
				copy(got, src)
				SoftmaxScaledRow(got, c.scale)
				checkGuards(t, fmt.Sprintf("%s n=%d", c.name, n), buf, n)
				require.Equal(t, bitsOf(want), bitsOf(got), "%s n=%d", c.name, n)
			}
		}
	})
}

func BenchmarkSoftmaxScaledRow(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{32, 64, 256} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		row := make([]float32, n)
		b.Run(fmt.Sprintf("n=%d/fused", n), func(b *testing.B) {
			for b.Loop() {
				copy(row, src)
				SoftmaxScaledRow(row, 0.125)
			}
		})
		b.Run(fmt.Sprintf("n=%d/separate", n), func(b *testing.B) {
			for b.Loop() {
				copy(row, src)
				Scale(row, row, 0.125)
				SoftmaxRow(row, row)
			}
		})
	}
}
