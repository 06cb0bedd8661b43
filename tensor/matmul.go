package tensor

import (
	"fmt"

	"github.com/goformer/goformer/internal/gemm"
)

// plain switches the kernels that have a plain reference beside them to it: the 2-d products
// (MatMul, MatMulT, TMatMul; not Affine) to matmulPlain, LayerNorm to layerNormPlain, Softmax to
// softmaxPlain. It is for a reader who wants to step through the arithmetic: set to true, the
// tests of autograd and nn still pass, slowly (tensor's tests that hold the fast kernels to
// their own bits do not).
const plain = false

// matmulPlain is the product as its definition: out[i, j] = Σₚ a[i, p]·b[p, j] for a (M, K) and
// b (K, N), each sum in float64 and rounded once. It is the oracle the fast path (gemm's blocked
// SIMD kernels, which sum in another order in float32) is tested against.
func matmulPlain(a, b *Tensor) *Tensor {
	m, k, n := a.Dim(0), a.Dim(1), b.Dim(1)
	out := Zeros(m, n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += float64(a.At(i, p)) * float64(b.At(p, j))
			}
			out.data[i*n+j] = float32(s)
		}
	}
	return out
}

// MatMul returns a·b for a (..., M, K) and b (..., K, N): a 2-d product, or a batch of them with
// the batch axes broadcast (NumPy matmul semantics; 1-d operands are not promoted).
func MatMul(a, b *Tensor) *Tensor { return matmul("MatMul", a, false, b, false) }

// MatMulT returns a·bᵀ for a (..., M, K) and b (..., N, K) without materialising the transpose.
func MatMulT(a, b *Tensor) *Tensor { return matmul("MatMulT", a, false, b, true) }

// TMatMul returns aᵀ·b for a (..., K, M) and b (..., K, N) without materialising the transpose.
func TMatMul(a, b *Tensor) *Tensor { return matmul("TMatMul", a, true, b, false) }

// matOperand describes one operand of a product as the gemm kernel wants it: storage, whether
// the kernel should read it transposed, its leading dimension, and the batch view of its strides.
type matOperand struct {
	t     *Tensor
	trans bool
	ld    int
}

// prepare makes the last two axes of t readable by the kernel: row-major (stride 1 on the last
// axis) or column-major (stride 1 on the one before, which the kernel reads as a transpose).
// Anything else is copied to contiguous first.
func prepare(t *Tensor, trans bool) matOperand {
	nd := len(t.shape)
	rows, cols := t.shape[nd-2], t.shape[nd-1]
	rs, cs := t.strides[nd-2], t.strides[nd-1]
	switch {
	case cs == 1 && (rows == 1 || rs >= cols):
		return matOperand{t, trans, max(rs, cols, 1)}
	case rs == 1 && (cols == 1 || cs >= rows):
		// column-major storage: the kernel reads it as the transpose of a row-major (cols, rows)
		return matOperand{t, !trans, max(cs, rows, 1)}
	}
	return prepare(t.Contiguous(), trans)
}

func matmul(op string, a *Tensor, ta bool, b *Tensor, tb bool) *Tensor {
	if len(a.shape) < 2 || len(b.shape) < 2 {
		panic(fmt.Sprintf("tensor.%s: operands need at least 2 axes: %v x %v", op, a.shape, b.shape))
	}
	na, nb := len(a.shape), len(b.shape)
	m, ka := a.shape[na-2], a.shape[na-1]
	if ta {
		m, ka = ka, m
	}
	kb, n := b.shape[nb-2], b.shape[nb-1]
	if tb {
		kb, n = n, kb
	}
	if ka != kb {
		panic(fmt.Sprintf("tensor.%s: inner dimensions differ: %v x %v", op, a.shape, b.shape))
	}
	batch := BroadcastShapes(op, a.shape[:na-2], b.shape[:nb-2])
	if plain && len(batch) == 0 {
		if ta {
			a = a.T()
		}
		if tb {
			b = b.T()
		}
		return matmulPlain(a, b)
	}
	// the fast path
	out := uninit(append(append([]int(nil), batch...), m, n)...) // the kernel writes every element (zeros when K = 0)
	if out.Size() == 0 {
		return out
	}
	pa, pb := prepare(a, ta), prepare(b, tb)
	if len(batch) == 0 {
		sgemm(pa.trans, pb.trans, m, n, ka, pa.t.data[pa.t.offset:], pa.ld, pb.t.data[pb.t.offset:], pb.ld, out.data, n, false)
		return out
	}
	// Batch offsets come from the operands' batch strides, broadcast (stride 0) where needed.
	ea := pa.t.Expand(append(append([]int(nil), batch...), pa.t.shape[na-2:]...)...)
	eb := pb.t.Expand(append(append([]int(nil), batch...), pb.t.shape[nb-2:]...)...)
	nBatch := numel(op, batch)
	offsets := make([]gemm.BatchOffsets, nBatch)
	for i := range offsets {
		offsets[i] = gemm.BatchOffsets{A: batchOffset(ea, batch, i), B: batchOffset(eb, batch, i), C: i * m * n}
	}
	sgemmBatched(pa.trans, pb.trans, m, n, ka, ea.data, pa.ld, eb.data, pb.ld, out.data, n, offsets, false)
	return out
}

// batchOffset returns the storage offset of matrix i (row-major over the batch axes) of t.
func batchOffset(t *Tensor, batch []int, i int) int {
	p := t.offset
	for ax := len(batch) - 1; ax >= 0; ax-- {
		p += (i % batch[ax]) * t.strides[ax]
		i /= batch[ax]
	}
	return p
}

// Affine returns x·wᵀ + b for x (M, K), w (N, K) and b (N): a Linear layer's forward pass, with
// the bias written into the output first and the product added onto it, which saves the pass
// over the output (and the second output tensor) that a separate addition would make.
func Affine(x, w, b *Tensor) *Tensor {
	if len(x.shape) != 2 || len(w.shape) != 2 || len(b.shape) != 1 || x.shape[1] != w.shape[1] || b.shape[0] != w.shape[0] {
		panic(fmt.Sprintf("tensor.Affine: want x (M, K), w (N, K), b (N), got %v, %v, %v", x.shape, w.shape, b.shape))
	}
	m, k, n := x.shape[0], x.shape[1], w.shape[0]
	out := uninit(m, n)
	if out.Size() == 0 {
		return out
	}
	bias := b.Contiguous().Data()
	parallelFor(m, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(out.data[i*n:(i+1)*n], bias)
		}
	})
	px, pw := prepare(x, false), prepare(w, true)
	sgemm(px.trans, pw.trans, m, n, k, px.t.data[px.t.offset:], px.ld, pw.t.data[pw.t.offset:], pw.ld, out.data, n, true)
	return out
}
