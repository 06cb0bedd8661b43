package tensor

import "fmt"

// Rotary position embeddings (RoPE), in Hugging Face's "rotate half" pairing: within each head
// vector of HS elements, element i pairs with element i + HS/2 (i < HS/2), and the pair is rotated
// by the angle p·θᵢ of its position p:
//
//	out[i]      = x[i]·cos − x[i+HS/2]·sin
//	out[i+HS/2] = x[i+HS/2]·cos + x[i]·sin
//
// The angles come as tables cos and sin of shape (P, HS/2), row p for position p, which the
// caller (nn.Rotary) computes once. Each product is rounded before the sum, as PyTorch's
// q·cos + rotate_half(q)·sin does.

// Rope rotates x (B, T, NH, HS) by position. pos holds T positions (the same for every row of the
// batch) or B·T (one per row and step, row-major), each in [0, P).
func Rope(x, cos, sin *Tensor, pos []int) *Tensor { return rope("Rope", x, cos, sin, pos, 1) }

// RopeBackward returns Rope's input gradient from its output gradient dy: the rotation is
// orthogonal, so its transpose is the rotation by the opposite angle.
func RopeBackward(dy, cos, sin *Tensor, pos []int) *Tensor {
	return rope("RopeBackward", dy, cos, sin, pos, -1)
}

func rope(op string, x, cos, sin *Tensor, pos []int, sign float32) *Tensor {
	if len(x.shape) != 4 || x.shape[3]%2 != 0 {
		panic(fmt.Sprintf("tensor.%s: want x (B, T, NH, HS) with an even HS, got %v", op, x.shape))
	}
	b, t, nh, hs := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	half := hs / 2
	if len(cos.shape) != 2 || cos.shape[1] != half || !sameShape(cos.shape, sin.shape) {
		panic(fmt.Sprintf("tensor.%s: want cos and sin tables (P, %d) for head size %d, got %v and %v", op, half, hs, cos.shape, sin.shape))
	}
	if len(pos) != t && len(pos) != b*t {
		panic(fmt.Sprintf("tensor.%s: %d positions for x %v: want T = %d or B·T = %d", op, len(pos), x.shape, t, b*t))
	}
	for _, p := range pos {
		if p < 0 || p >= cos.shape[0] {
			panic(fmt.Sprintf("tensor.%s: position %d outside the tables' [0, %d)", op, p, cos.shape[0]))
		}
	}
	src := x.Contiguous().Data()
	cd, sd := cos.Contiguous().Data(), sin.Contiguous().Data()
	out := uninit(x.shape...)
	parallelFor(b*t, nh*hs*3, func(lo, hi int) {
		for bt := lo; bt < hi; bt++ {
			p := pos[bt%len(pos)] // len(pos) == T repeats over the batch; == B·T indexes directly
			base := bt * nh * hs
			ropeHeads(out.data[base:base+nh*hs], src[base:base+nh*hs], cd[p*half:(p+1)*half], sd[p*half:(p+1)*half], nh, sign)
		}
	})
	return out
}
