package optim

import (
	"math"

	"github.com/goformer/goformer/autograd"
)

// ClipGradNorm rescales the gradients in place so that their global L2 norm (of all the
// gradients taken together, as one vector) is at most maxNorm, and returns the norm before
// clipping, as torch.nn.utils.clip_grad_norm_ does: the gradients are multiplied by
// maxNorm/(norm+1e-6) when that is below 1, and left alone otherwise. Parameters without a
// gradient count as zero. The norm accumulates in float64.
//
// A non-finite norm is returned as is, and the gradients are then scaled by the non-finite
// coefficient too (as torch does with error_if_nonfinite=False): check the result to skip such
// a step.
func ClipGradNorm(params []*autograd.Var, maxNorm float32) float64 {
	var sum float64
	for _, p := range params {
		sum += sumSquares(gradData(p))
	}
	norm := math.Sqrt(sum)
	coef := float64(maxNorm) / (norm + 1e-6)
	if coef < 1 || math.IsNaN(coef) {
		ScaleGrads(params, float32(coef))
	}
	return norm
}

// ScaleGrads multiplies every gradient by s in place, e.g. by 1/n after accumulating n
// micro-batches whose losses were not scaled. Parameters without a gradient are skipped.
func ScaleGrads(params []*autograd.Var, s float32) {
	for _, p := range params {
		if g := grads.Write(p); g != nil {
			g.ScaleInPlace(s)
		}
	}
}

// sumSquares returns the sum of the squares of x in float64, in four independent chains (element
// i goes to chain i mod 4, then the chains are added in a fixed order): one chain would wait on
// each addition's latency.
func sumSquares(x []float32) float64 {
	var s0, s1, s2, s3 float64
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		q := x[i : i+4 : i+4]
		a, b, c, d := float64(q[0]), float64(q[1]), float64(q[2]), float64(q[3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for _, v := range x[n:] {
		s0 += float64(v) * float64(v)
	}
	return (s0 + s1) + (s2 + s3)
}
