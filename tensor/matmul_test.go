package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// naiveMatMul is the oracle, matmulPlain: a plain triple loop over At, independent of the
// strided-view and kernel machinery under test. a (M, K), b (K, N), both 2-d.
func naiveMatMul(a, b *Tensor) []float64 {
	var out []float64
	for _, v := range matmulPlain(a, b).Values() {
		out = append(out, float64(v))
	}
	return out
}

// assertClose compares float32 results with float64 references. The tolerance 1e-5·(1+|ref|)·√K
// covers float32 summation rounding, which grows with the number of terms.
func assertClose(t *testing.T, want []float64, got []float32, k int, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	tol := 1e-5 * float64(k+1)
	for i := range want {
		d := float64(got[i]) - want[i]
		if d < 0 {
			d = -d
		}
		if d > tol*(1+abs64(want[i])) {
			t.Fatalf("%s: element %d: got %v want %v", msg, i, got[i], want[i])
		}
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestMatMulAgainstNaive(t *testing.T) {
	rng := newRNG(7)
	for _, s := range [][3]int{{1, 1, 1}, {3, 7, 1}, {7, 3, 33}, {33, 17, 7}, {64, 64, 64}, {127, 33, 65}} {
		m, k, n := s[0], s[1], s[2]
		a := RandNormal(rng, 0, 1, m, k)
		b := RandNormal(rng, 0, 1, k, n)
		want := naiveMatMul(a, b)
		name := fmt.Sprint(s)
		assertClose(t, want, MatMul(a, b).Values(), k, "MatMul "+name)
		// transposed forms and strided (transposed-view) operands
		bt := b.T().Contiguous()
		at := a.T().Contiguous()
		assertClose(t, want, MatMulT(a, bt).Values(), k, "MatMulT "+name)
		assertClose(t, want, TMatMul(at, b).Values(), k, "TMatMul "+name)
		assertClose(t, want, MatMul(at.T(), bt.T()).Values(), k, "MatMul of views "+name)
		// an operand that is neither row- nor column-major must be copied, not misread
		wide := RandNormal(rng, 0, 1, m, 2*k)
		odd := wide.Narrow(1, 0, k) // row stride 2k: still readable
		assertClose(t, naiveMatMul(odd, b), MatMul(odd, b).Values(), k, "MatMul narrow "+name)
	}
}

func TestMatMulBatchedBroadcast(t *testing.T) {
	rng := newRNG(8)
	a := RandNormal(rng, 0, 1, 2, 3, 5, 4) // (2, 3, M=5, K=4)
	b := RandNormal(rng, 0, 1, 3, 4, 6)    // (3, K=4, N=6): broadcast over the leading 2
	out := MatMul(a, b)
	require.Equal(t, []int{2, 3, 5, 6}, out.Shape())
	for i := range 2 {
		for j := range 3 {
			want := naiveMatMul(a.Index(0, i).Index(0, j), b.Index(0, j))
			assertClose(t, want, out.Index(0, i).Index(0, j).Values(), 4, fmt.Sprint("batch ", i, j))
		}
	}
	// (B, NH, T, HS) · (B, NH, HS, T) as attention does, with a permuted (non-contiguous) operand
	q := RandNormal(rng, 0, 1, 2, 7, 3, 5).Permute(0, 2, 1, 3) // (2, 3, 7, 5)
	k := RandNormal(rng, 0, 1, 2, 7, 3, 5).Permute(0, 2, 1, 3)
	att := MatMulT(q, k)
	require.Equal(t, []int{2, 3, 7, 7}, att.Shape())
	for i := range 2 {
		for h := range 3 {
			want := naiveMatMul(q.Index(0, i).Index(0, h), k.Index(0, i).Index(0, h).T())
			assertClose(t, want, att.Index(0, i).Index(0, h).Values(), 5, fmt.Sprint("attention ", i, h))
		}
	}
}

func TestMatMulShapeErrors(t *testing.T) {
	assert.PanicsWithValue(t, "tensor.MatMul: inner dimensions differ: [2 3] x [4 5]", func() { MatMul(Zeros(2, 3), Zeros(4, 5)) })
	assert.Panics(t, func() { MatMul(Zeros(3), Zeros(3, 1)) })
	assert.Equal(t, []float32{0, 0, 0, 0}, MatMul(Zeros(2, 0), Zeros(0, 2)).Values(), "K = 0 gives zeros")
}

func TestMatMulIndependentOfWorkers(t *testing.T) {
	rng := newRNG(9)
	a := RandNormal(rng, 0, 1, 200, 96)
	b := RandNormal(rng, 0, 1, 96, 130)
	defer SetWorkers(0)
	SetWorkers(1)
	one := MatMul(a, b).Values()
	SetWorkers(3)
	three := MatMul(a, b).Values()
	assert.Equal(t, one, three, "MatMul must be bitwise identical for any worker count")
}

// TestKernelsMatchPlain holds the fast LayerNorm and Softmax to their plain references on odd
// and round widths, with masked (−Inf) entries in the softmax.
func TestKernelsMatchPlain(t *testing.T) {
	rng := newRNG(9)
	for _, c := range []int{1, 7, 33, 64, 127} {
		x := RandNormal(rng, 1, 3, 5, c)
		w, b := RandNormal(rng, 1, 0.5, c), RandNormal(rng, 0, 0.5, c)
		y, mean, rstd := LayerNorm(x, w, b, 1e-5)
		py, pmean, prstd := layerNormPlain(x, w, b, 1e-5)
		for name, p := range map[string][2]*Tensor{"y": {y, py}, "mean": {mean, pmean}, "rstd": {rstd, prstd}} {
			assert.InDeltaSlice(t, toF64(p[1]), toF64(p[0]), 2e-5, "LayerNorm %s, C=%d", name, c)
		}
		yn, _, _ := LayerNorm(x, w, nil, 1e-5)
		pyn, _, _ := layerNormPlain(x, w, nil, 1e-5)
		assert.InDeltaSlice(t, toF64(pyn), toF64(yn), 2e-5, "LayerNorm without bias, C=%d", c)

		s := RandNormal(rng, 0, 4, 3, c)
		s.data[c-1] = float32(math.Inf(-1))
		assert.InDeltaSlice(t, toF64(softmaxPlain(s)), toF64(Softmax(s)), 1e-6, "Softmax, C=%d", c)
	}
}

func toF64(t *Tensor) []float64 {
	var out []float64
	for _, v := range t.Values() {
		out = append(out, float64(v))
	}
	return out
}
