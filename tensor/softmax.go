package tensor

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/internal/vecmath"
)

// Row-wise kernels over the last axis: softmax, log-softmax, layer normalisation and the fused
// cross-entropy. Each backward kernel sits beside its forward one.

// lastAxisRows views a tensor as (rows, C) over its last axis, returning its contiguous data.
func lastAxisRows(op string, t *Tensor) (data []float32, rows, c int) {
	if len(t.shape) == 0 {
		panic(fmt.Sprintf("tensor.%s: want at least 1 axis, got a scalar", op))
	}
	c = t.shape[len(t.shape)-1]
	data = t.Contiguous().Data()
	if c == 0 {
		return data, 0, 0
	}
	return data, len(data) / c, c
}

// Softmax returns exp(x - max) / Σexp(x - max) over the last axis. Masked entries of -Inf get 0;
// a row that is entirely -Inf gives NaN, as in PyTorch.
func Softmax(a *Tensor) *Tensor {
	if plain {
		return softmaxPlain(a)
	}
	// the fast path: vecmath's fused row kernel, rows in parallel
	src, rows, c := lastAxisRows("Softmax", a)
	out := uninit(a.shape...)
	parallelFor(rows, c*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			vecmath.SoftmaxRow(out.data[r*c:(r+1)*c], src[r*c:(r+1)*c])
		}
	})
	return out
}

// softmaxPlain is Softmax by its definition, one row at a time, with the sum in float64: the
// oracle the fast path is tested against. Subtracting the row's max changes nothing in exact
// arithmetic and keeps exp from overflowing.
func softmaxPlain(a *Tensor) *Tensor {
	src, rows, c := lastAxisRows("Softmax", a)
	out := Zeros(a.shape...)
	for r := range rows {
		row, dst := src[r*c:(r+1)*c], out.data[r*c:(r+1)*c]
		top := math.Inf(-1)
		for _, v := range row {
			top = max(top, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - top)
		}
		for i, v := range row {
			dst[i] = float32(math.Exp(float64(v)-top) / sum)
		}
	}
	return out
}

// SoftmaxBackward returns the gradient with respect to the softmax input, given the softmax
// output y and the output gradient dy: dx = y·(dy − Σ dy·y).
func SoftmaxBackward(y, dy *Tensor) *Tensor {
	mustSameShape("SoftmaxBackward", y, dy)
	yd, rows, c := lastAxisRows("SoftmaxBackward", y)
	gd := dy.Contiguous().Data()
	out := uninit(y.shape...)
	parallelFor(rows, c*3, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, gr, dst := yd[r*c:(r+1)*c], gd[r*c:(r+1)*c], out.data[r*c:(r+1)*c]
			var dot float64
			for i := range yr {
				dot += float64(yr[i] * gr[i])
			}
			d := float32(dot)
			for i := range dst {
				dst[i] = yr[i] * (gr[i] - d)
			}
		}
	})
	return out
}

// LogSoftmax returns x − max − log Σexp(x − max) over the last axis.
func LogSoftmax(a *Tensor) *Tensor {
	src, rows, c := lastAxisRows("LogSoftmax", a)
	out := uninit(a.shape...)
	parallelFor(rows, c*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x, dst := src[r*c:(r+1)*c], out.data[r*c:(r+1)*c]
			m := vecmath.Max(x)
			for i, v := range x {
				dst[i] = v - m
			}
			lse := logSumExpShifted(dst)
			for i := range dst {
				dst[i] -= lse
			}
		}
	})
	return out
}

// logSumExpShifted returns log Σexp(x) for a row already shifted by its maximum. It exponentiates
// into a scratch row, since the vector kernel works slice to slice.
func logSumExpShifted(x []float32) float32 {
	tmp := make([]float32, len(x))
	vecmath.Exp(tmp, x)
	return float32(math.Log(vecmath.Sum(tmp)))
}

// LogSoftmaxBackward returns dx = dy − exp(y)·Σdy, given the log-softmax output y.
func LogSoftmaxBackward(y, dy *Tensor) *Tensor {
	mustSameShape("LogSoftmaxBackward", y, dy)
	yd, rows, c := lastAxisRows("LogSoftmaxBackward", y)
	gd := dy.Contiguous().Data()
	out := uninit(y.shape...)
	parallelFor(rows, c*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, gr, dst := yd[r*c:(r+1)*c], gd[r*c:(r+1)*c], out.data[r*c:(r+1)*c]
			s := vecmath.Sum(gr)
			vecmath.Exp(dst, yr) // the softmax probabilities
			for i := range dst {
				dst[i] = gr[i] - dst[i]*float32(s)
			}
		}
	})
	return out
}

// CrossEntropy computes the mean over rows of −log softmax(logits)[target] for logits (N, V) and
// N targets, skipping rows whose target equals ignoreIndex. It returns the loss, the softmax
// probabilities (which the backward pass needs) and the number of rows counted. A target outside
// [0, V) that is not ignoreIndex panics: callers validate ids that come from outside.
// If every row is ignored the loss is NaN, as in PyTorch.
func CrossEntropy(logits *Tensor, targets []int, ignoreIndex int) (loss float32, probs *Tensor, count int) {
	if len(logits.shape) != 2 || logits.shape[0] != len(targets) {
		panic(fmt.Sprintf("tensor.CrossEntropy: logits %v need shape (N, V) with N = %d targets", logits.shape, len(targets)))
	}
	src, rows, v := lastAxisRows("CrossEntropy", logits)
	probs = uninit(logits.shape...)
	losses := make([]float64, rows)
	parallelFor(rows, v*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x, dst := src[r*v:(r+1)*v], probs.data[r*v:(r+1)*v]
			vecmath.SoftmaxRow(dst, x)
			t := targets[r]
			if t == ignoreIndex {
				continue
			}
			if t < 0 || t >= v {
				panic(fmt.Sprintf("tensor.CrossEntropy: target %d out of range [0, %d) at row %d", t, v, r))
			}
			if p := dst[t]; p > 1e-30 {
				losses[r] = -math.Log(float64(p))
			} else {
				// the probability underflowed (or nearly): take the loss from the logits
				m := vecmath.Max(x)
				shifted := make([]float32, len(x))
				for i, xv := range x {
					shifted[i] = xv - m
				}
				losses[r] = float64(logSumExpShifted(shifted) - shifted[t])
			}
		}
	})
	var sum float64
	for r, t := range targets {
		if t != ignoreIndex {
			sum += losses[r]
			count++
		}
	}
	return float32(sum / float64(count)), probs, count
}

// CrossEntropyBackward returns the gradient of CrossEntropy's mean loss with respect to the
// logits, scaled by dloss: (probs − onehot(target)) · dloss / count, and 0 on ignored rows.
func CrossEntropyBackward(probs *Tensor, targets []int, ignoreIndex, count int, dloss float32) *Tensor {
	src, rows, v := lastAxisRows("CrossEntropyBackward", probs)
	out := Zeros(probs.shape...)
	if count == 0 {
		return out
	}
	scale := dloss / float32(count)
	parallelFor(rows, v, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			t := targets[r]
			if t == ignoreIndex {
				continue
			}
			p, dst := src[r*v:(r+1)*v], out.data[r*v:(r+1)*v]
			for i := range dst {
				dst[i] = p[i] * scale
			}
			dst[t] -= scale
		}
	})
	return out
}
