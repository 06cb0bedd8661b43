// Package tensor provides n-dimensional float32 arrays and the numeric kernels that a GPT needs:
// element-wise arithmetic with broadcasting, reductions, softmax, embedding gathers, and a fast
// matrix multiply. It knows nothing of gradients; package autograd builds on it.
//
// # Conventions
//
//   - Storage is row-major (C order). A Tensor is a view: a shared []float32, a shape, strides
//     (in elements, one per axis) and an offset. A 0-d tensor (shape []) is a scalar holding one value.
//   - View operations (Reshape of contiguous data, Transpose, Permute, Narrow, Expand, Squeeze,
//     Unsqueeze) never copy: the result aliases its input, so writing through one is seen by the other.
//     Contiguous copies only when the tensor is not already contiguous.
//   - Every other operation (Add, Exp, Sum, MatMul, Softmax, ...) allocates a fresh, contiguous result
//     and never modifies its inputs. The few in-place methods say so in their name or doc (AddInPlace,
//     Fill, ScatterAdd, ...).
//   - Binary element-wise operations follow NumPy broadcasting: shapes are aligned at the right, and
//     an axis of length 1 (or a missing axis) stretches to match the other operand.
//   - Shape mismatches, bad axes and out-of-range indices are programmer errors: they panic with a
//     message naming the operation and the shapes, e.g. "tensor.MatMul: inner dimensions differ: [2 3] x [4 5]".
//     Nothing in this package returns an error: it reads no files (package safetensors does).
//   - Long sums (reductions, softmax denominators, variances) accumulate in float64.
//   - Heavy kernels (MatMul, Softmax, large element-wise ops) run on SetWorkers goroutines
//     (default GOMAXPROCS); results do not depend on the worker count beyond float rounding, and
//     MatMul's are bitwise identical for any count.
//
// # Memory
//
// A training step makes the same big tensors every time, so results take their storage from free
// lists of recycled buffers, kept by length, before asking the runtime for fresh, zeroed memory.
// Nothing in this package's API recycles storage, and nothing recycles a tensor you hold: its
// elements, and a slice that Data returned, keep their contents for as long as you keep them,
// unless you write into them or release the autograd graph that computed them. Storage goes back
// to the lists only through package autograd, which knows when a step's tensors are dead: the
// values of a graph whose owner called autograd.Release, inference outputs their owner passed to
// autograd.Discard (as nn's layers do with their own intermediates), the gradients an op's output has passed
// on, and parameters' gradients dropped by ZeroGrad that were never handed out. A training loop
// built that way allocates almost nothing after its first step. The lists hold up to 1 GiB for
// sure, and more only weakly, until the next garbage collection.
//
// # Main calls
//
//	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3) // (2, 3)
//	w := tensor.RandNormal(rng, 0, 0.02, 3, 4)                // (3, 4)
//	y := tensor.MatMul(x, w)                                  // (2, 4)
//	p := tensor.Softmax(y)                                    // rows sum to 1
//	s := tensor.Sum(p, 1, false)                              // (2)
package tensor
