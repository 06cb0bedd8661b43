package autograd

import "github.com/goformer/goformer/tensor"

// Attention is fused multi-head attention of queries q (B, Tq, NH·HS) over keys k and values v
// (B, Tk, NKV·HS), heads side by side along the last axis: softmax(q·kᵀ/√HS)·v per query head,
// with its KV head's keys and values (a.Heads/a.KVHeads query heads share one), giving
// (B, Tq, NH·HS). a.Causal hides from query i the keys after position i + Tk − Tq; a.KeyPad
// (B·Tk flags, or nil) hides padding keys. It computes what nn.Attend's plain composition
// computes (nn's tests check it) without the intermediate copies, except that a query seeing no
// key gets 0, not NaN.
//
// q, k and v are read in place. When they are the three Narrows of one fused projection (B, T,
// W) along its last axis, in order (as Split makes them), the backward pass writes their
// gradients side by side into one (B, T, W) gradient of the projection, without going through
// the Narrows.
func Attention(q, k, v *Var, a tensor.Attn) *Var {
	if !q.RequiresGrad() && !k.RequiresGrad() && !v.RequiresGrad() {
		// inference: nothing will read the weights, which would only take memory
		return record("attention", tensor.AttentionOutput(q.Value, k.Value, v.Value, a), []*Var{q, k, v}, nil)
	}
	y, p := tensor.Attention(q.Value, k.Value, v.Value, a)
	if parent := splitParent(q, k, v); parent != nil {
		return recordSaving("attention", y, []*Var{parent}, []*tensor.Tensor{p}, func(out *Var) func() {
			return func() {
				_, _, _, packed := tensor.AttentionBackward(out.grad, q.Value, k.Value, v.Value, p, a)
				parent.addGrad(packed) // splitParent checked what tensor needs to pack
			}
		})
	}
	return recordSaving("attention", y, []*Var{q, k, v}, []*tensor.Tensor{p}, func(out *Var) func() {
		return func() {
			dq, dk, dv, _ := tensor.AttentionBackward(out.grad, q.Value, k.Value, v.Value, p, a)
			q.addGrad(dq) // an input that needs no gradient lets its share be recycled
			k.addGrad(dk)
			v.addGrad(dv)
		}
	})
}

// splitParent returns the Var that q, k and v are consecutive Narrows of along the last axis,
// covering it, if they are and it requires a gradient; else nil.
func splitParent(q, k, v *Var) *Var {
	for _, x := range []*Var{q, k, v} {
		if x.op != "narrow" || len(x.parents) != 1 || x.parents[0] != q.parents[0] {
			return nil
		}
	}
	p, w := q.parents[0], q.Value.Dim(2)+k.Value.Dim(2)+v.Value.Dim(2)
	if !tensor.Packed(q.Value, k.Value, v.Value) || p.Value.Dims() != 3 || p.Value.Dim(2) != w || p.Value.Dim(1) != q.Value.Dim(1) {
		return nil
	}
	return p
}
