package tensor

import (
	"fmt"
	"sync/atomic"

	"github.com/goformer/goformer/internal/gemm"
)

// Precision is the arithmetic of the matrix products MatMul, MatMulT, TMatMul and Affine (and so
// of every Linear layer, forward and backward, since autograd computes gradients with them) and
// of Attention's products (the scores and the weighted values, and the four products of
// AttentionBackward), as PyTorch's bf16 autocast runs its matmuls and bmms. Every other operation
// stays float32, and so does a decoding step's one-query attention (AttentionOutput), which
// inference runs in the weights' own format.
type Precision uint8

const (
	// Float32 products: float32 inputs, float32 accumulation. The default.
	Float32 Precision = iota
	// BF16 products: the inputs rounded to bfloat16 (8 significant bits, round to nearest even)
	// and the products accumulated in float32, as PyTorch's bfloat16 autocast does for Linear
	// layers; the tensors themselves stay float32 (master weights, gradients, optimizer state).
	// It runs on VDPBF16PS where the CPU has AVX512-BF16 (Intel Cooper Lake and Sapphire Rapids
	// on, AMD Zen 4 on); elsewhere the products are float32 (see BF16Native).
	BF16
)

func (p Precision) String() string {
	switch p {
	case Float32:
		return "float32"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("Precision(%d)", uint8(p))
}

// ParsePrecision reads a precision's name: float32 (or fp32), bf16 (or bfloat16).
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "float32", "fp32":
		return Float32, nil
	case "bf16", "bfloat16":
		return BF16, nil
	}
	return 0, fmt.Errorf("unknown precision %q (want float32 or bf16)", s)
}

var precision atomic.Uint32

// SetMatMulPrecision sets the precision of the matrix products from now on, for the whole
// process: the one switch for mixed-precision training. Set it before training, not while
// products run on other goroutines.
func SetMatMulPrecision(p Precision) {
	if p != Float32 && p != BF16 {
		panic(fmt.Sprintf("tensor.SetMatMulPrecision: unknown %v", p))
	}
	precision.Store(uint32(p))
}

// MatMulPrecision returns the precision set by SetMatMulPrecision.
func MatMulPrecision() Precision { return Precision(precision.Load()) }

// BF16Native reports whether this CPU multiplies in bfloat16 (AVX512-BF16). Without it,
// SetMatMulPrecision(BF16) leaves the products float32: emulating bfloat16 would be slower than
// float32 and no more accurate.
func BF16Native() bool { return gemm.BF16Native() }

// sgemm is gemm.Sgemm in the precision set by SetMatMulPrecision.
func sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if MatMulPrecision() == BF16 {
		gemm.SgemmBF16(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	gemm.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// sgemmBatched is gemm.SgemmBatched in the precision set by SetMatMulPrecision.
func sgemmBatched(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, offsets []gemm.BatchOffsets, accumulate bool) {
	if MatMulPrecision() == BF16 {
		gemm.SgemmBF16Batched(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, offsets, accumulate)
		return
	}
	gemm.SgemmBatched(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, offsets, accumulate)
}
