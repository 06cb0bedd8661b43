package tensor

import (
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/internal/gemm"
	"github.com/stretchr/testify/require"
)

// With BF16 set, MatMul, MatMulT, TMatMul, a batched MatMul and Affine give gemm.SgemmBF16's
// bits (bf16 products where the CPU has them); Float32 restores Sgemm's.
func TestMatMulPrecisionSwitch(t *testing.T) {
	defer SetMatMulPrecision(Float32)
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := RandNormal(rng, 0, 1, 2, 37, 50), RandNormal(rng, 0, 1, 50, 45)
	bias := RandNormal(rng, 0, 1, 45)
	a0 := a.Narrow(0, 0, 1).Reshape(37, 50).Contiguous()
	want := func(bf16, transA, transB bool, m, n, k int, x []float32, lda int, y []float32, ldb int, c []float32) []float32 {
		out := append([]float32(nil), c...)
		if bf16 {
			gemm.SgemmBF16(transA, transB, m, n, k, x, lda, y, ldb, out, n, len(c) > 0)
		} else {
			gemm.Sgemm(transA, transB, m, n, k, x, lda, y, ldb, out, n, len(c) > 0)
		}
		return out
	}
	for _, p := range []Precision{BF16, Float32} {
		SetMatMulPrecision(p)
		require.Equal(t, p, MatMulPrecision())
		bf := p == BF16
		require.Equal(t, want(bf, false, false, 37, 45, 50, a0.Data(), 50, b.Data(), 45, make([]float32, 37*45)), MatMul(a0, b).Values(), "MatMul %v", p)
		bt := b.Transpose(0, 1).Contiguous() // (45, 50)
		require.Equal(t, want(bf, false, true, 37, 45, 50, a0.Data(), 50, bt.Data(), 50, make([]float32, 37*45)), MatMulT(a0, bt).Values(), "MatMulT %v", p)
		require.Equal(t, want(bf, true, false, 50, 45, 37, a0.Data(), 50, RandNormal(rand.New(rand.NewPCG(3, 4)), 0, 1, 37, 45).Data(), 45, make([]float32, 50*45)),
			TMatMul(a0, RandNormal(rand.New(rand.NewPCG(3, 4)), 0, 1, 37, 45)).Values(), "TMatMul %v", p)
		batched := MatMul(a, b).Values()
		require.Equal(t, MatMul(a0, b).Values(), batched[:37*45], "batched MatMul %v", p)
		withBias := make([]float32, 37*45)
		for i := range 37 {
			copy(withBias[i*45:], bias.Data())
		}
		require.Equal(t, want(bf, false, true, 37, 45, 50, a0.Data(), 50, bt.Data(), 50, withBias), Affine(a0, bt, bias).Values(), "Affine %v", p)
	}
	SetMatMulPrecision(BF16)
	x := MatMul(a0, b).Values()
	SetMatMulPrecision(Float32)
	if BF16Native() {
		require.NotEqual(t, x, MatMul(a0, b).Values(), "bf16 products equal float32 ones on a CPU with AVX512-BF16")
	}
}

func TestParsePrecision(t *testing.T) {
	for s, want := range map[string]Precision{"float32": Float32, "fp32": Float32, "bf16": BF16, "bfloat16": BF16} {
		p, err := ParsePrecision(s)
		require.NoError(t, err)
		require.Equal(t, want, p)
		if s == want.String() {
			q, _ := ParsePrecision(p.String())
			require.Equal(t, p, q)
		}
	}
	_, err := ParsePrecision("fp16")
	require.ErrorContains(t, err, "fp16")
	require.Panics(t, func() { SetMatMulPrecision(Precision(9)) })
}
