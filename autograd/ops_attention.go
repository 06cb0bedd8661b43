package autograd

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/tensor"
)

// The ops of an encoder–decoder's attention: a key-padding mask for the plain composition, and
// the fused multi-head attention whose queries and keys/values may come from different
// sequences.

// KeyPaddingMask returns scores (B, NH, Tq, Tk) with −Inf at every key whose flag in pad (B·Tk
// flags, row-major) is true, so that softmax gives it zero weight. Masked entries get no
// gradient. (PyTorch's key_padding_mask: true means "padding, ignore".)
func KeyPaddingMask(scores *Var, pad []bool) *Var {
	return record("key_padding_mask", keyPadFill(scores.Value, pad, float32(math.Inf(-1))), []*Var{scores}, func(out *Var) func() {
		return func() { scores.addGrad(keyPadFill(out.grad, pad, 0)) }
	})
}

// keyPadFill returns a copy of t (B, NH, Tq, Tk) with value at the padded keys.
func keyPadFill(t *tensor.Tensor, pad []bool, value float32) *tensor.Tensor {
	shape := t.Shape()
	if len(shape) != 4 || len(pad) != shape[0]*shape[3] {
		panic(fmt.Sprintf("autograd.KeyPaddingMask: want scores (B, NH, Tq, Tk) and B·Tk flags, got %v and %d flags", shape, len(pad)))
	}
	out := t.Clone()
	d := out.Data()
	b, rows, tk := shape[0], shape[1]*shape[2], shape[3]
	for bi := range b {
		flags := pad[bi*tk : (bi+1)*tk]
		for r := range rows {
			row := d[(bi*rows+r)*tk : (bi*rows+r+1)*tk]
			for j, padded := range flags {
				if padded {
					row[j] = value
				}
			}
		}
	}
	return out
}

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
	y, p := tensor.Attention(q.Value, k.Value, v.Value, a)
	if parent := splitParent(q, k, v); parent != nil {
		return recordSaving("attention", y, []*Var{parent}, []*tensor.Tensor{p}, func(out *Var) func() {
			return func() {
				dq, dk, dv, packed := tensor.AttentionBackward(out.grad, q.Value, k.Value, v.Value, p, a)
				if packed != nil && tensor.SameShape(packed, parent.Value) {
					parent.addGrad(packed)
					return
				}
				g := parent.ownGrad() // not reached while Split makes the views: the fallback
				nq, nk := dq.Dim(2), dk.Dim(2)
				g.Narrow(2, 0, nq).AddInPlace(dq)
				g.Narrow(2, nq, nk).AddInPlace(dk)
				g.Narrow(2, nq+nk, nk).AddInPlace(dv)
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
	parent := q.parents[0]
	ps := parent.Value.Shape()
	if len(ps) != 3 || ps[2] != q.Value.Dim(2)+k.Value.Dim(2)+v.Value.Dim(2) || ps[1] != q.Value.Dim(1) {
		return nil
	}
	return parent
}
