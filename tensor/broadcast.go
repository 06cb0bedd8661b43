package tensor

import "fmt"

// BroadcastShapes returns the shape that NumPy broadcasting gives for operands of shapes a and b,
// panicking (naming op) if they are incompatible.
func BroadcastShapes(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("tensor.%s: shapes %v and %v cannot be broadcast", op, a, b))
		}
	}
	return out
}

// SumTo reduces t by summation to shape, undoing a broadcast from shape to t's shape: leading
// axes are summed away and axes where shape has length 1 are summed with keepdim. Autograd uses it
// to send a broadcast operand its gradient.
func SumTo(t *Tensor, shape []int) *Tensor {
	if sameShape(t.shape, shape) {
		return t
	}
	lead := len(t.shape) - len(shape)
	if lead < 0 {
		panic(fmt.Sprintf("tensor.SumTo: cannot reduce shape %v to %v", t.shape, shape))
	}
	if t.Size() == 0 {
		return Zeros(shape...)
	}
	out := t
	if lead > 0 {
		// fold all leading axes into one and sum it away in a single pass
		c := out.Contiguous()
		out = Sum(c.Reshape(append([]int{-1}, c.shape[lead:]...)...), 0, false)
	}
	for i, d := range shape {
		if d == 1 && out.shape[i] != 1 {
			out = Sum(out, i, true)
		} else if d != out.shape[i] {
			panic(fmt.Sprintf("tensor.SumTo: cannot reduce shape %v to %v", t.shape, shape))
		}
	}
	return out
}
