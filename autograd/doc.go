// Package autograd is a define-by-run, reverse-mode automatic differentiation engine over
// package tensor, in the style of micrograd.
//
// A Var holds a value tensor, a gradient tensor, and a closure that sends its gradient to the
// Vars it was computed from. Every op in this package computes its output eagerly and, when any
// input requires a gradient (and gradients are enabled), records that closure. Backward on a scalar
// sorts the recorded graph topologically once and sweeps it once in reverse.
//
// # Conventions
//
//   - Gradients accumulate: a Var used twice receives both contributions, and a second Backward
//     (through a graph built again) without ZeroGrad adds to the first, as in PyTorch. A graph is
//     differentiated once: Backward recycles the tensors its ops saved for it, as PyTorch frees
//     them without retain_graph, and a second Backward through the same ops panics.
//   - Param makes a leaf that requires a gradient (a model parameter); Const makes one that does
//     not (inputs, masks). An op's output requires a gradient if any input does.
//   - NoGrad runs a function with recording switched off, for inference and evaluation: ops then
//     return plain values with no graph. The switch is process-wide: do not train in one
//     goroutine while running NoGrad inference in another. Constants record nothing in any
//     goroutine, so the concurrent way to run a model without gradients is a copy whose
//     parameters are constants sharing the values (nn's Frozen methods, model.GPT.Frozen).
//   - Ops never modify their inputs' values. A leaf's Grad is nil until Backward reaches it;
//     Grad tensors are contiguous and owned by their Var. As in PyTorch, only leaves keep their
//     gradients: an op's output hands its storage back as soon as Backward has passed it on.
//   - Shape errors panic, naming the op and the shapes (the tensor kernels do the checking).
//
// # Main calls
//
//	w := autograd.Param(tensor.RandNormal(rng, 0, 0.02, 3, 4))
//	x := autograd.Const(tensor.FromSlice(data, 2, 3))
//	loss := autograd.MeanAll(autograd.Tanh(autograd.MatMul(x, w)))
//	loss.Backward() // w.Grad now holds dloss/dw
package autograd
