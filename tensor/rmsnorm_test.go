package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rmsNormRef is RMSNorm as its formula reads, every sum and product in float64: the oracle of
// RMSNorm and RMSNormBackward. dx = rstd·(g − n̂·mean(g·n̂)) with g = dy·w, dw = Σ dy·n̂.
func rmsNormRef(x, w, dy []float32, c int, eps float64) (y, dx, dw []float64) {
	rows := len(x) / c
	y, dx, dw = make([]float64, len(x)), make([]float64, len(x)), make([]float64, c)
	for r := range rows {
		row, g := x[r*c:(r+1)*c], dy[r*c:(r+1)*c]
		ss := 0.0
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		rs := 1 / math.Sqrt(ss/float64(c)+eps)
		gn := 0.0
		for i, v := range row {
			n := float64(v) * rs
			y[r*c+i] = n * float64(w[i])
			gn += float64(g[i]) * float64(w[i]) * n
			dw[i] += float64(g[i]) * n
		}
		gn /= float64(c)
		for i, v := range row {
			dx[r*c+i] = rs * (float64(g[i])*float64(w[i]) - float64(v)*rs*gn)
		}
	}
	return y, dx, dw
}

func closeTo(t *testing.T, name string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); d > atol+rtol*math.Abs(w) {
			assert.Fail(t, "too far", "%s[%d] = %v, reference %v (diff %.3g)", name, i, got[i], w, d)
			return
		}
	}
}

// RMSNorm and its backward against the float64 formula on odd and round widths, with row counts
// that leave partial blocks; a few float32 roundings apart at most.
func TestRMSNormMatchesReference(t *testing.T) {
	for k, shape := range lnShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			x, w, _, dy := lnCase(uint64(300+k), shape)
			c := shape[len(shape)-1]
			const eps = 1e-5
			y, rstd := RMSNorm(x, w, eps)
			dx, dw := RMSNormBackward(dy, x, w, rstd)
			ry, rdx, rdw := rmsNormRef(x.Values(), w.Values(), dy.Values(), c, eps)
			require.Equal(t, x.Shape(), y.Shape())
			require.Equal(t, shape[:len(shape)-1], rstd.Shape())
			closeTo(t, "y", y.Values(), ry, 1e-6, 1e-6)
			closeTo(t, "dx", dx.Values(), rdx, 1e-5, 1e-5)
			closeTo(t, "dw", dw.Values(), rdw, 1e-5, 1e-5)
		})
	}
}

// The weight gradient's sum is fixed by blocks of rows, not by the workers that compute them.
func TestRMSNormBackwardIndependentOfWorkers(t *testing.T) {
	defer SetWorkers(0)
	x, w, _, dy := lnCase(7, []int{300, 130})
	var first []*Tensor
	for _, n := range []int{1, 2, 3, 8} {
		SetWorkers(n)
		y, rstd := RMSNorm(x, w, 1e-6)
		dx, dw := RMSNormBackward(dy, x, w, rstd)
		if first == nil {
			first = []*Tensor{y, dx, dw}
			continue
		}
		sameBits(t, fmt.Sprintf("y, %d workers", n), y, first[0])
		sameBits(t, fmt.Sprintf("dx, %d workers", n), dx, first[1])
		sameBits(t, fmt.Sprintf("dw, %d workers", n), dw, first[2])
	}
}

func TestRMSNormPanicsOnShapes(t *testing.T) {
	assert.PanicsWithValue(t, "tensor.RMSNorm: input [2 3] needs weight and bias of shape [3], got [4] and nil", func() {
		RMSNorm(Zeros(2, 3), Zeros(4), 1e-5)
	})
}
