package autograd

// Release ends the life of the graph that produced v: the storage of every value computed by an
// op in it (v's included), and of any gradient or saved tensor still there, goes back to
// tensor's free lists, where the next step's ops find buffers of the sizes they need instead of
// asking the runtime for fresh, zeroed memory. Leaves keep theirs: parameters, their gradients
// (the optimiser may still need them) and constants are untouched.
//
// It is the one call by which the owner of a graph says that nothing reads it any more: llm.c
// likewise owns one block of activations per step. Call it once a training step is done with
// its graph (after the optimiser step), having read what you need (say loss.Item()) first. The
// released Vars must not be used again, nor any value of theirs you kept (reading a released
// tensor panics; a Data slice taken from it earlier sees whatever reuses the storage). Release
// is optional: without it the garbage collector reclaims the graph as usual.
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
		n.dropGrad()
		storage.Free(n.Value)
		freeAll(n.saved)
		n.Value, n.saved = nil, nil
		n.parents, n.backward = nil, nil // let the closures' cached tensors go too
	}
}

// Discard recycles the values of vs at once, for inference code that knows nothing reads them
// any more: the intermediates of a decoding step, which otherwise each take fresh memory from the
// runtime, while the model's weights keep the heap so large that the collector seldom runs and
// the same memory is never met twice (on a virtual machine, touching fresh pages cost a SmolLM2
// decoding step more than its small kernels). Only the value of an op's output that requires no
// gradient is recycled, and only storage that op allocated itself: a view (of a parameter,
// perhaps), a parameter, a constant, a Var in a graph and nil are left alone. As after Release,
// a discarded Var must not be read again (reading its value panics), and nothing that a
// backward pass will run may have read it: a Var that needs no gradient itself can still be the
// input of one that does (a frozen layer's output feeding a LoRA adapter), whose backward reads
// it. Discard only what led to outputs that need no gradient either.
func Discard(vs ...*Var) {
	for _, v := range vs {
		if v == nil || v.requiresGrad || v.op == "param" || v.op == "const" || v.Value == nil {
			continue
		}
		storage.Free(v.Value)
		v.Value = nil
	}
}
