package tensor

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/internal/vecmath"
)

// binaryKind names a binary element-wise operation, so one strided loop per kind can serve
// every broadcasting pattern without a function call per element.
type binaryKind int

const (
	kindAdd binaryKind = iota
	kindSub
	kindMul
	kindDiv
)

var binaryNames = [...]string{"Add", "Sub", "Mul", "Div"}

// binaryLoop computes dst[i] = x[i*xs] (op) y[i*ys] for i in [0, len(dst)).
func binaryLoop(kind binaryKind, dst, x []float32, xs int, y []float32, ys int) {
	n := len(dst)
	if xs == 1 && ys == 1 {
		x, y = x[:n], y[:n]
		switch kind {
		case kindAdd:
			vecmath.Add(dst, x, y)
		case kindSub:
			for i := range dst {
				dst[i] = x[i] - y[i]
			}
		case kindMul:
			vecmath.Mul(dst, x, y)
		case kindDiv:
			for i := range dst {
				dst[i] = x[i] / y[i]
			}
		}
		return
	}
	px, py := 0, 0
	switch kind {
	case kindAdd:
		for i := range dst {
			dst[i] = x[px] + y[py]
			px += xs
			py += ys
		}
	case kindSub:
		for i := range dst {
			dst[i] = x[px] - y[py]
			px += xs
			py += ys
		}
	case kindMul:
		for i := range dst {
			dst[i] = x[px] * y[py]
			px += xs
			py += ys
		}
	case kindDiv:
		for i := range dst {
			dst[i] = x[px] / y[py]
			px += xs
			py += ys
		}
	}
}

// broadcastBinary applies kind with broadcasting and returns a new contiguous tensor.
func broadcastBinary(kind binaryKind, a, b *Tensor) *Tensor {
	shape := BroadcastShapes(binaryNames[kind], a.shape, b.shape)
	out := uninit(shape...)
	n := len(out.data)
	if n == 0 {
		return out
	}
	// Fast path: both dense with the same shape.
	if sameShape(a.shape, b.shape) && a.IsContiguous() && b.IsContiguous() {
		ad, bd := a.Data(), b.Data()
		parallelFor(n, 1, func(lo, hi int) {
			binaryLoop(kind, out.data[lo:hi], ad[lo:hi], 1, bd[lo:hi], 1)
		})
		return out
	}
	ea, eb := a.Expand(shape...), b.Expand(shape...)
	nd := len(shape)
	if nd == 0 {
		binaryLoop(kind, out.data, a.data[a.offset:], 1, b.data[b.offset:], 1)
		return out
	}
	inner := shape[nd-1]
	rows := n / inner
	sa, sb := ea.strides[nd-1], eb.strides[nd-1]
	parallelFor(rows, inner, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			pa, pb := rowOffset(ea, r), rowOffset(eb, r)
			binaryLoop(kind, out.data[r*inner:(r+1)*inner], ea.data[pa:], sa, eb.data[pb:], sb)
		}
	})
	return out
}

// rowOffset returns the storage position of the first element of row r, where rows are the
// row-major enumeration of all axes but the last.
func rowOffset(t *Tensor, r int) int {
	p := t.offset
	for ax := len(t.shape) - 2; ax >= 0; ax-- {
		d := t.shape[ax]
		p += (r % d) * t.strides[ax]
		r /= d
	}
	return p
}

// Add returns a + b with broadcasting.
func Add(a, b *Tensor) *Tensor { return broadcastBinary(kindAdd, a, b) }

// Sub returns a - b with broadcasting.
func Sub(a, b *Tensor) *Tensor { return broadcastBinary(kindSub, a, b) }

// Mul returns a * b (element-wise) with broadcasting.
func Mul(a, b *Tensor) *Tensor { return broadcastBinary(kindMul, a, b) }

// Div returns a / b (element-wise) with broadcasting.
func Div(a, b *Tensor) *Tensor { return broadcastBinary(kindDiv, a, b) }

// AddInPlace adds b (broadcast to t's shape) into t, in place. t may be a view (say, a Narrow
// of a gradient buffer), in which case only its elements change. It is how gradients accumulate
// without allocating.
func (t *Tensor) AddInPlace(b *Tensor) {
	if !sameShape(BroadcastShapes("AddInPlace", t.shape, b.shape), t.shape) {
		panic(fmt.Sprintf("tensor.AddInPlace: cannot broadcast %v into %v", b.shape, t.shape))
	}
	if t.IsContiguous() && sameShape(t.shape, b.shape) && b.IsContiguous() {
		d, bd := t.Data(), b.Data()
		parallelFor(len(d), 1, func(lo, hi int) {
			binaryLoop(kindAdd, d[lo:hi], d[lo:hi], 1, bd[lo:hi], 1)
		})
		return
	}
	eb := b.Expand(t.shape...)
	bs := 1
	if len(t.shape) > 0 {
		bs = eb.strides[len(t.shape)-1]
	}
	forEachRow(t, func(r, p, inner, stride int) {
		q := rowOffset(eb, r)
		for range inner {
			t.data[p] += eb.data[q]
			p += stride
			q += bs
		}
	})
}

// ScaleInPlace multiplies every element of the contiguous tensor t by s.
func (t *Tensor) ScaleInPlace(s float32) {
	d := t.Data()
	vecmath.Scale(d, d, s)
}

// unary applies f to every element and returns a new contiguous tensor.
func unary(a *Tensor, cost int, f func(float32) float32) *Tensor {
	src := a.Contiguous().Data()
	out := uninit(a.shape...)
	parallelFor(len(src), cost, func(lo, hi int) {
		d, s := out.data[lo:hi], src[lo:hi]
		for i := range d {
			d[i] = f(s[i])
		}
	})
	return out
}

// Neg returns -a.
func Neg(a *Tensor) *Tensor { return unary(a, 1, func(x float32) float32 { return -x }) }

// Scale returns s·a.
func Scale(a *Tensor, s float32) *Tensor {
	return mapSlices(a, func(dst, src []float32) { vecmath.Scale(dst, src, s) })
}

// AddScalar returns a + s.
func AddScalar(a *Tensor, s float32) *Tensor {
	return unary(a, 1, func(x float32) float32 { return x + s })
}

// Pow returns a raised element-wise to the power p.
func Pow(a *Tensor, p float32) *Tensor {
	switch p {
	case 2:
		return unary(a, 1, func(x float32) float32 { return x * x })
	case 1:
		return a.Clone()
	}
	return unary(a, 20, func(x float32) float32 { return float32(math.Pow(float64(x), float64(p))) })
}

// Exp returns e^a.
func Exp(a *Tensor) *Tensor {
	return mapSlices(a, vecmath.Exp)
}

// Log returns the natural logarithm of a.
func Log(a *Tensor) *Tensor {
	return unary(a, 10, func(x float32) float32 { return float32(math.Log(float64(x))) })
}

// Sqrt returns the square root of a.
func Sqrt(a *Tensor) *Tensor {
	return unary(a, 4, func(x float32) float32 { return float32(math.Sqrt(float64(x))) })
}

// Tanh returns the hyperbolic tangent of a.
func Tanh(a *Tensor) *Tensor {
	return unary(a, 10, func(x float32) float32 { return float32(math.Tanh(float64(x))) })
}

// ReLU returns max(a, 0).
func ReLU(a *Tensor) *Tensor { return unary(a, 1, func(x float32) float32 { return max(x, 0) }) }

// Where returns cond ? a : b element-wise (cond is true where it is non-zero), broadcasting all three.
func Where(cond, a, b *Tensor) *Tensor {
	shape := BroadcastShapes("Where", BroadcastShapes("Where", cond.shape, a.shape), b.shape)
	c := cond.Expand(shape...).Values()
	av := a.Expand(shape...).Values()
	bv := b.Expand(shape...).Values()
	for i := range c {
		if c[i] == 0 {
			av[i] = bv[i]
		}
	}
	return FromSlice(av, shape...)
}

// MaskedFill returns a copy of a with value wherever mask (broadcast to a's shape) is non-zero.
func MaskedFill(a, mask *Tensor, value float32) *Tensor {
	if !sameShape(BroadcastShapes("MaskedFill", a.shape, mask.shape), a.shape) {
		panic(fmt.Sprintf("tensor.MaskedFill: mask %v does not broadcast to %v", mask.shape, a.shape))
	}
	out := a.Clone()
	m := mask.Expand(a.shape...).Values()
	for i, v := range m {
		if v != 0 {
			out.data[i] = value
		}
	}
	return out
}
