package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameBits reports, as an assertion, whether got and want hold the same float32 bits.
func sameBits(t *testing.T, name string, got, want *Tensor) bool {
	t.Helper()
	require.Equal(t, want.Shape(), got.Shape(), name)
	g, w := got.Values(), want.Values()
	for i := range w {
		if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
			return assert.Fail(t, "bits differ", "%s[%d] = %v, reference %v", name, i, g[i], w[i])
		}
	}
	return true
}

// lnShapes are LayerNorm inputs: widths below, at and between vector lengths, GPT widths, and
// row counts that leave partial blocks of lnBlock rows.
var lnShapes = func() [][]int {
	var shapes [][]int
	for _, c := range []int{1, 7, 16, 128, 130, 768} {
		for _, rows := range []int{1, 5, 32, 70} {
			shapes = append(shapes, []int{rows, c})
		}
		shapes = append(shapes, []int{2, 3, c})
	}
	return append(shapes, []int{300, 128})
}()

// lnCase returns an input with a per-row offset (so that centring rounds), weight, bias and an
// output gradient.
func lnCase(seed uint64, shape []int) (x, w, b, dy *Tensor) {
	rng := newRNG(seed)
	c := shape[len(shape)-1]
	x = RandNormal(rng, 0, 1.5, shape...)
	xd := x.Data()
	for r := range len(xd) / c {
		off := float32(r%5) - 1.7
		for i := range c {
			xd[r*c+i] += off
		}
	}
	return x, RandNormal(rng, 1, 0.3, c), RandNormal(rng, 0, 0.2, c), RandNormal(rng, 0, 1, shape...)
}

// The vector rows against the scalar code they replaced (layernorm_ref_test.go): every output
// bit for bit. The old weight and bias sums were chunked by the worker count, so they are the
// reference with one worker, which the new fixed blocks reproduce for any worker count.
func TestLayerNormMatchesScalarReference(t *testing.T) {
	defer SetWorkers(0)
	for k, shape := range lnShapes {
		x, w, b, dy := lnCase(uint64(50+k), shape)
		for _, bias := range []*Tensor{b, nil} {
			t.Run(fmt.Sprintf("%v/bias=%v", shape, bias != nil), func(t *testing.T) {
				SetWorkers(1)
				wantY, wantMean, wantRstd := layerNormRef(x, w, bias, 1e-5)
				wantDx, wantDw, wantDb := layerNormBackwardRef(dy, x, w, wantMean, wantRstd)
				for _, workers := range []int{1, 2, 3} {
					SetWorkers(workers)
					y, mean, rstd := LayerNorm(x, w, bias, 1e-5)
					sameBits(t, "y", y, wantY)
					sameBits(t, "mean", mean, wantMean)
					sameBits(t, "rstd", rstd, wantRstd)
					dx, dw, db := LayerNormBackward(dy, x, w, mean, rstd)
					sameBits(t, fmt.Sprintf("dx (%d workers)", workers), dx, wantDx)
					sameBits(t, fmt.Sprintf("dweight (%d workers)", workers), dw, wantDw)
					sameBits(t, fmt.Sprintf("dbias (%d workers)", workers), db, wantDb)
				}
			})
		}
	}
}

// The weight and bias gradients sum over rows in fixed blocks, so every worker count gives the
// same bits, on a shape large enough that the blocks are shared out among the workers.
func TestLayerNormBackwardIndependentOfWorkers(t *testing.T) {
	x, w, b, dy := lnCase(60, []int{1000, 130})
	defer SetWorkers(0)
	SetWorkers(1)
	_, mean, rstd := LayerNorm(x, w, b, 1e-5)
	dx1, dw1, db1 := LayerNormBackward(dy, x, w, mean, rstd)
	for _, workers := range []int{2, 3} {
		SetWorkers(workers)
		dx, dw, db := LayerNormBackward(dy, x, w, mean, rstd)
		sameBits(t, fmt.Sprintf("dx (%d workers)", workers), dx, dx1)
		sameBits(t, fmt.Sprintf("dweight (%d workers)", workers), dw, dw1)
		sameBits(t, fmt.Sprintf("dbias (%d workers)", workers), db, db1)
	}
}
