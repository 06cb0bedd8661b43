// Package autograd is a define-by-run, reverse-mode automatic differentiation engine over
// package tensor, in the style of micrograd.
//
// A Var holds a value tensor, a gradient, and a closure that adds its gradient into the
// gradients of the Vars it was computed from. Every op in this package computes its output
// eagerly and, when one of its inputs requires a gradient, records that closure. Backward on a
// scalar sorts the recorded graph topologically once and sweeps it once in reverse.
//
// # Conventions
//
//   - Param makes a leaf that requires a gradient (a model parameter); Const makes one that does
//     not (inputs, masks). An op records a graph exactly when one of its inputs requires a
//     gradient, so there is no switch to turn recording off: to evaluate without a graph, run
//     on constants. Detach gives a constant sharing a Var's value, and nn's Frozen methods
//     (model.GPT.Frozen) give a model whose parameters are such constants, which may run in one
//     goroutine while another goroutine trains.
//   - Gradients accumulate: a Var used twice receives both contributions, and a second Backward
//     (through a graph built again) without ZeroGrad adds to the first, as in PyTorch. A graph is
//     differentiated once: Backward recycles the tensors its ops saved for it, as PyTorch frees
//     them without retain_graph, and a second Backward through the same ops panics.
//   - As in PyTorch, only leaves keep their gradients: Grad returns nil for an op's output.
//   - Ops never modify their inputs' values. Shape errors panic, naming the op and the shapes.
//
// # Memory: what stays and what is recycled
//
// Storage is recycled behind the scenes (tensor's free lists), but never under a caller:
//
//   - What you hold keeps its contents: a tensor Grad returned (and its Data slice), a Var's
//     Value, any output. A later Backward or an optimiser's clipping writes into a new gradient
//     tensor, never into one that Grad handed out, and ZeroGrad never recycles one.
//   - Release(loss) is the one call that recycles what you could see: the values of every op in
//     loss's graph, once the step is done with them. It is optional, and it is the owner's to
//     make, as llm.c owns one block of activations per step. Its inference twin, Discard(vs...),
//     recycles the values of outputs that need no gradient, as soon as their owner has read
//     them: nn's layers call it on their own intermediates when no gradient is computed, so a
//     decoding step reuses the last step's memory instead of touching fresh pages.
//   - Everything else recycled was never handed out: the gradient an op's output passes on, the
//     tensors a backward closure saved, and parameters' gradients that ZeroGrad drops when
//     nothing but the optimiser read them (optimisers reach gradients without Grad).
//
// # Main calls
//
//	w := autograd.Param(tensor.RandNormal(rng, 0, 0.02, 3, 4))
//	x := autograd.Const(tensor.FromSlice(data, 2, 3))
//	loss := autograd.MeanAll(autograd.Tanh(autograd.MatMul(x, w)))
//	loss.Backward() // w.Grad() now holds dloss/dw
//	autograd.Release(loss) // optional: the next step reuses this graph's buffers
package autograd
