package autograd

import "github.com/goformer/goformer/tensor"

// Release ends the life of the graph that produced v: the storage of every value and gradient
// computed by an op in it (v's included) goes back to tensor's free lists, where the next step's
// ops find buffers of the sizes they need instead of asking the runtime for fresh, zeroed memory.
// Leaves keep theirs: parameters, their gradients (the optimiser may still need them) and
// constants are untouched.
//
// Call it once a training step is done with the graph (after the optimiser step), having read
// what you need (say loss.Item()) first: the released Vars must not be used again. Reading a
// released value panics. Release is optional; without it the garbage collector reclaims the
// graph as usual.
func Release(v *Var) {
	if v == nil {
		return
	}
	seen := map[*Var]bool{v: true}
	stack := []*Var{v}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range n.parents {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
		if n.backward == nil {
			continue // a leaf, or an op output recorded without a graph
		}
		tensor.Release(n.Value, n.Grad)
		tensor.Release(n.saved...)
		n.Value, n.Grad, n.gradShared, n.saved = nil, nil, false, nil
		n.parents, n.backward = nil, nil // let the closures' cached tensors go too
	}
}
