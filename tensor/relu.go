package tensor

import "math"

// ReLUBackward returns the gradient of ReLU given its output y and the output gradient dy: dy
// where y > 0, else 0 (the derivative at 0 is taken as 0, as PyTorch does).
func ReLUBackward(y, dy *Tensor) *Tensor {
	mustSameShape("ReLUBackward", y, dy)
	yd, gd := y.Contiguous().data, dy.Contiguous().data
	out := uninit(y.shape...)
	parallelFor(len(out.data), 1, func(lo, hi int) {
		// branch-free: y > 0 exactly where its bits, read as an int32, are positive, and
		// −bits >> 31 is then all ones (random signs would defeat a branch predictor)
		for i := lo; i < hi; i++ {
			keep := uint32(-int32(math.Float32bits(yd[i])) >> 31)
			out.data[i] = math.Float32frombits(math.Float32bits(gd[i]) & keep)
		}
	})
	return out
}
