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

// Attention is fused multi-head attention of queries q (B, Tq, C) over keys k and values v
// (B, Tk, C), heads side by side along C: softmax(q·kᵀ/√HS)·v per head, giving (B, Tq, C).
// causal hides from query i the keys after position i + Tk − Tq; pad (B·Tk flags, or nil)
// hides padding keys. q, k and v may be slices (Narrow) of one fused projection: they are read
// in place. It computes what the plain composition computes (reshape into heads, MatMulT,
// Scale, CausalMask, KeyPaddingMask, Softmax, MatMul, merge the heads; nn's attention tests
// check it) without the intermediate copies, except that a query seeing no key gets 0, not NaN.
func Attention(q, k, v *Var, nHead int, causal bool, pad []bool) *Var {
	y, p := tensor.Attention(q.Value, k.Value, v.Value, nHead, causal, pad)
	return recordSaving("attention", y, []*Var{q, k, v}, []*tensor.Tensor{p}, func(out *Var) func() {
		return func() {
			dq, dk, dv := tensor.AttentionBackward(out.grad, q.Value, k.Value, v.Value, p, nHead)
			q.addGrad(dq) // an input that needs no gradient lets its share be recycled
			k.addGrad(dk)
			v.addGrad(dv)
		}
	})
}
