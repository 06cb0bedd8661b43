package tensor

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/internal/vecmath"
)

// reduceShape splits a contiguous tensor around axis into (outer, d, inner) and returns the
// result shape with or without the reduced axis.
func reduceShape(op string, t *Tensor, axis int, keepdim bool) (outer, d, inner int, shape []int) {
	axis = t.axis(op, axis)
	outer, inner = 1, 1
	for i := 0; i < axis; i++ {
		outer *= t.shape[i]
	}
	for i := axis + 1; i < len(t.shape); i++ {
		inner *= t.shape[i]
	}
	d = t.shape[axis]
	shape = append([]int(nil), t.shape[:axis]...)
	if keepdim {
		shape = append(shape, 1)
	}
	shape = append(shape, t.shape[axis+1:]...)
	return outer, d, inner, shape
}

// reduce folds axis with f over float64 accumulators; init is the accumulator's start value.
func reduce(op string, t *Tensor, axis int, keepdim bool, init float64, f func(acc float64, x float32) float64, finish func(acc float64, d int) float32) *Tensor {
	outer, d, inner, shape := reduceShape(op, t, axis, keepdim)
	src := t.Contiguous().Data()
	out := Zeros(shape...)
	acc := make([]float64, inner)
	for o := range outer {
		for i := range acc {
			acc[i] = init
		}
		base := o * d * inner
		for j := range d {
			row := src[base+j*inner : base+(j+1)*inner]
			for i, x := range row {
				acc[i] = f(acc[i], x)
			}
		}
		dst := out.data[o*inner : (o+1)*inner]
		for i := range dst {
			dst[i] = finish(acc[i], d)
		}
	}
	return out
}

// Sum returns the sum over axis (negative counts from the end); keepdim keeps it with length 1.
func Sum(t *Tensor, axis int, keepdim bool) *Tensor { return sumScaled("Sum", t, axis, keepdim, false) }

// Mean returns the mean over axis.
func Mean(t *Tensor, axis int, keepdim bool) *Tensor {
	return sumScaled("Mean", t, axis, keepdim, true)
}

// sumScaled sums over axis in float64, dividing by the axis length for a mean. It walks the
// input in storage order (row by row of the reduced axis), which keeps the inner loop a plain
// vector add whichever axis is reduced.
func sumScaled(op string, t *Tensor, axis int, keepdim, mean bool) *Tensor {
	outer, d, inner, shape := reduceShape(op, t, axis, keepdim)
	src := t.Contiguous().Data()
	out := uninit(shape...)
	scale := 1.0
	if mean {
		scale = 1 / float64(d)
	}
	if outer == 1 {
		// Summing away a leading axis (a bias gradient): each block of sumColumns' rows is summed
		// on the worker that holds those rows (see parallel.For), into a partial of its own; the
		// partials are then added in order, exactly as sumColumns adds them.
		blocks := (d + sumBlock - 1) / sumBlock
		parts := make([]float32, blocks*inner)
		parallelFor(blocks, sumBlock*inner, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				sumRows(parts[b*inner:(b+1)*inner], src, b*sumBlock, min((b+1)*sumBlock, d))
			}
		})
		addPartials(out.data, parts, scale)
		return out
	}
	parallelFor(outer, d*inner, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			sumColumns(out.data[o*inner:(o+1)*inner], src[o*d*inner:(o+1)*d*inner], d, scale)
		}
	})
	return out
}

// sumColumns writes into dst the sums (times scale) of the columns of src, a (d, len(dst))
// row-major block. It adds rows with the vector kernel into float32 partial sums of sumBlock rows
// each (short enough that float32 loses nothing that matters) and adds those into float64 totals.
func sumColumns(dst, src []float32, d int, scale float64) {
	n := len(dst)
	acc := make([]float64, n)
	part := make([]float32, n)
	for j0 := 0; j0 < d; j0 += sumBlock {
		sumRows(part, src, j0, min(j0+sumBlock, d))
		for i, p := range part {
			acc[i] += float64(p)
		}
	}
	for i := range dst {
		dst[i] = float32(acc[i] * scale)
	}
}

// sumRows sets part to the float32 sum of rows [j0, j1) of src, rows of len(part).
func sumRows(part, src []float32, j0, j1 int) {
	n := len(part)
	clear(part)
	for j := j0; j < j1; j++ {
		vecmath.Add(part, part, src[j*n:(j+1)*n])
	}
}

// sumBlock is the number of rows sumColumns adds in float32 before it adds them to float64 totals.
const sumBlock = 32

// addPartials sets dst[i] to scale times the float64 sum, in order, of the float32 partials
// parts[b·len(dst)+i].
func addPartials(dst, parts []float32, scale float64) {
	acc := make([]float64, len(dst))
	for b := 0; b < len(parts); b += len(dst) {
		for i, p := range parts[b : b+len(dst)] {
			acc[i] += float64(p)
		}
	}
	for i := range dst {
		dst[i] = float32(acc[i] * scale)
	}
}

// Max returns the maximum over axis. NaN propagates.
func Max(t *Tensor, axis int, keepdim bool) *Tensor {
	return reduce("Max", t, axis, keepdim, math.Inf(-1),
		func(acc float64, x float32) float64 {
			if x != x || float64(x) > acc {
				return float64(x)
			}
			return acc
		},
		func(acc float64, _ int) float32 { return float32(acc) })
}

// Variance returns the population variance (divisor N, as LayerNorm uses) over axis.
func Variance(t *Tensor, axis int, keepdim bool) *Tensor {
	mean := Mean(t, axis, true)
	diff := Sub(t, mean)
	return Mean(Mul(diff, diff), axis, keepdim)
}

// SumAll returns the sum of every element as a 0-d tensor.
func SumAll(t *Tensor) *Tensor {
	var s float64
	for _, x := range t.Contiguous().Data() {
		s += float64(x)
	}
	return Scalar(float32(s))
}

// MeanAll returns the mean of every element as a 0-d tensor.
func MeanAll(t *Tensor) *Tensor {
	if t.Size() == 0 {
		panic(fmt.Sprintf("tensor.MeanAll: empty tensor of shape %v", t.shape))
	}
	return Scalar(SumAll(t).Item() / float32(t.Size()))
}

// ArgMax returns, for each position of the other axes (row-major), the index of the largest value
// along axis; the first one wins ties.
func ArgMax(t *Tensor, axis int) []int {
	outer, d, inner, _ := reduceShape("ArgMax", t, axis, false)
	if d == 0 {
		panic(fmt.Sprintf("tensor.ArgMax: axis %d of shape %v is empty", axis, t.shape))
	}
	src := t.Contiguous().Data()
	out := make([]int, outer*inner)
	for o := range outer {
		for i := range inner {
			best, bestJ := src[o*d*inner+i], 0
			for j := 1; j < d; j++ {
				if v := src[(o*d+j)*inner+i]; v > best {
					best, bestJ = v, j
				}
			}
			out[o*inner+i] = bestJ
		}
	}
	return out
}
