package tensor

import (
	"fmt"
	"slices"
	"strings"
)

// Tensor is an n-dimensional view onto float32 storage. See the package doc for conventions.
type Tensor struct {
	data    []float32
	shape   []int
	strides []int
	offset  int
	// owned says data was allocated for this tensor (not a view, not the caller's slice), so
	// that it may be recycled (storage.go).
	owned bool
	// holders counts, on an owned tensor, those that declared they hold its storage (storage.go).
	holders int32
	// owner, for a view of an owned tensor, is that tensor: recycling through the view reaches it.
	owner *Tensor
	// dims holds shape and strides when they have at most inlineDims axes (setLayout).
	dims [2 * inlineDims]int
}

// inlineDims is how many axes a tensor keeps its shape and strides for inside itself: a tensor
// of up to four axes (a decoding step makes thousands, most of them views) is then one
// allocation rather than three.
const inlineDims = 4

// setLayout sets t's shape and strides to copies of shape and strides (nil: row-major strides),
// in t.dims when they fit. Shapes and strides are never changed in place afterwards.
func (t *Tensor) setLayout(shape, strides []int) {
	n := len(shape)
	var sh, st []int
	if n <= inlineDims {
		sh, st = t.dims[:n:n], t.dims[inlineDims:inlineDims+n:inlineDims+n]
	} else {
		sh, st = make([]int, n), make([]int, n)
	}
	copy(sh, shape)
	if strides != nil {
		copy(st, strides)
	} else {
		s := 1
		for i := n - 1; i >= 0; i-- {
			st[i] = s
			s *= sh[i]
		}
	}
	t.shape, t.strides = sh, st
}

// numel is the number of elements a shape holds; it panics on a negative dimension.
func numel(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor.%s: negative dimension in shape %v", op, slices.Clone(shape)))
		}
		n *= d
	}
	return n
}

func newContiguous(data []float32, shape []int) *Tensor {
	t := &Tensor{data: data}
	t.setLayout(shape, nil)
	return t
}

// Zeros returns a tensor of the given shape filled with 0. No shape arguments gives a scalar.
func Zeros(shape ...int) *Tensor {
	numel("Zeros", shape)
	t := uninit(shape...)
	clear(t.data)
	return t
}

// Empty returns a tensor of the given shape whose elements are unspecified: its storage may be
// recycled and hold old values, even NaNs. It is for a result that a kernel is about to overwrite
// in full (a decoding step's products), where Zeros would clear memory only to overwrite it.
func Empty(shape ...int) *Tensor {
	numel("Empty", shape)
	return uninit(shape...)
}

// Ones returns a tensor of the given shape filled with 1.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Full returns a tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	if v != 0 {
		for i := range t.data {
			t.data[i] = v
		}
	}
	return t
}

// Scalar returns a 0-d tensor holding v.
func Scalar(v float32) *Tensor { return newContiguous([]float32{v}, nil) }

// FromSlice wraps data (without copying) as a contiguous tensor of the given shape.
// With no shape it is a 1-d tensor of len(data). It panics if the sizes disagree.
func FromSlice(data []float32, shape ...int) *Tensor {
	if shape == nil {
		shape = []int{len(data)}
	}
	if n := numel("FromSlice", shape); n != len(data) {
		panic(fmt.Sprintf("tensor.FromSlice: %d values do not fill shape %v (%d elements)", len(data), shape, n))
	}
	return newContiguous(data, shape)
}

// Arange returns the 1-d tensor [start, start+step, ...) up to but excluding stop.
func Arange(start, stop, step float32) *Tensor {
	if step == 0 {
		panic("tensor.Arange: step is 0")
	}
	var vals []float32
	for v := start; (step > 0 && v < stop) || (step < 0 && v > stop); v += step {
		vals = append(vals, v)
	}
	return FromSlice(vals, len(vals))
}

// Shape returns the tensor's shape. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Strides returns the strides in elements. The caller must not modify them.
func (t *Tensor) Strides() []int { return t.strides }

// Dims returns the number of axes (0 for a scalar).
func (t *Tensor) Dims() int { return len(t.shape) }

// Dim returns the length of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int { return t.shape[t.axis("Dim", i)] }

// Size returns the number of elements.
func (t *Tensor) Size() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// IsContiguous reports whether the elements are laid out densely in row-major order.
func (t *Tensor) IsContiguous() bool {
	s := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != s {
			return false
		}
		s *= t.shape[i]
	}
	return true
}

// Data returns the elements of a contiguous tensor as a slice that aliases its storage.
// It panics if the tensor is not contiguous: call Contiguous first.
func (t *Tensor) Data() []float32 {
	if !t.IsContiguous() {
		panic(fmt.Sprintf("tensor.Data: tensor of shape %v with strides %v is not contiguous; call Contiguous first", t.shape, t.strides))
	}
	return t.data[t.offset : t.offset+t.Size()]
}

// Values returns a fresh copy of the elements in row-major order.
func (t *Tensor) Values() []float32 {
	out := make([]float32, t.Size())
	copyStrided(out, t)
	return out
}

// axis normalises a possibly negative axis and panics if it is out of range.
func (t *Tensor) axis(op string, a int) int {
	if a < 0 {
		a += len(t.shape)
	}
	if a < 0 || a >= len(t.shape) {
		panic(fmt.Sprintf("tensor.%s: axis %d out of range for shape %v", op, a, t.shape))
	}
	return a
}

// index computes the storage position of a multi-index, checking bounds.
func (t *Tensor) index(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor.%s: %d indices for shape %v", op, len(idx), t.shape))
	}
	p := t.offset
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor.%s: index %v out of range for shape %v", op, idx, t.shape))
		}
		p += x * t.strides[i]
	}
	return p
}

// At returns the element at the given multi-index.
func (t *Tensor) At(idx ...int) float32 { return t.data[t.index("At", idx)] }

// Set writes v at the given multi-index (through the view, into shared storage).
func (t *Tensor) Set(v float32, idx ...int) { t.data[t.index("Set", idx)] = v }

// Item returns the single value of a tensor with one element (a scalar, or shape [1], [1 1], ...).
func (t *Tensor) Item() float32 {
	if t.Size() != 1 {
		panic(fmt.Sprintf("tensor.Item: tensor of shape %v has %d elements, want 1", t.shape, t.Size()))
	}
	return t.data[t.offset]
}

// Clone returns a contiguous copy that shares nothing with t.
func (t *Tensor) Clone() *Tensor {
	out := uninit(t.shape...)
	copyStrided(out.data, t)
	return out
}

// Contiguous returns t itself if it is contiguous, else a contiguous copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	out := uninit(t.shape...)
	copyStrided(out.data, t)
	return out
}

// CopyFrom copies src's elements into t (in place). The shapes must be equal.
func (t *Tensor) CopyFrom(src *Tensor) {
	if !sameShape(t.shape, src.shape) {
		panic(fmt.Sprintf("tensor.CopyFrom: shapes differ: %v <- %v", t.shape, src.shape))
	}
	if t.IsContiguous() {
		copyStrided(t.Data(), src)
		return
	}
	vals := src.Values()
	forEachRow(t, func(r, p, inner, stride int) {
		for _, v := range vals[r*inner : (r+1)*inner] {
			t.data[p] = v
			p += stride
		}
	})
}

// Fill sets every element of t (through the view) to v.
func (t *Tensor) Fill(v float32) {
	forEachRow(t, func(_, p, inner, stride int) {
		for range inner {
			t.data[p] = v
			p += stride
		}
	})
}

// copyStrided writes src's elements in row-major order into dst (len(dst) == src.Size()).
func copyStrided(dst []float32, src *Tensor) {
	if src.IsContiguous() {
		copy(dst, src.data[src.offset:src.offset+src.Size()])
		return
	}
	forEachRow(src, func(r, p, inner, stride int) {
		row := dst[r*inner : (r+1)*inner]
		if stride == 1 {
			copy(row, src.data[p:p+inner])
			return
		}
		for j := range row {
			row[j] = src.data[p]
			p += stride
		}
	})
}

// forEachRow calls f for every row of t (the innermost axis), in row-major order, with the row
// number, the storage position of its first element, its length and its stride.
func forEachRow(t *Tensor, f func(r, p, inner, stride int)) {
	nd := len(t.shape)
	if nd == 0 {
		f(0, t.offset, 1, 1)
		return
	}
	if t.Size() == 0 {
		return
	}
	idx := make([]int, nd)
	inner, stride := t.shape[nd-1], t.strides[nd-1]
	p := t.offset
	for r := 0; ; r++ {
		f(r, p, inner, stride)
		ax := nd - 2
		for ; ax >= 0; ax-- {
			idx[ax]++
			p += t.strides[ax]
			if idx[ax] < t.shape[ax] {
				break
			}
			p -= idx[ax] * t.strides[ax]
			idx[ax] = 0
		}
		if ax < 0 {
			return
		}
	}
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b *Tensor) bool { return sameShape(a.shape, b.shape) }

// String formats small tensors fully and large ones by shape only.
func (t *Tensor) String() string {
	if t.Size() > 64 {
		return fmt.Sprintf("Tensor%v", t.shape)
	}
	vals := t.Values()
	var sb strings.Builder
	fmt.Fprintf(&sb, "Tensor%v", t.shape)
	sb.WriteString(fmt.Sprint(vals))
	return sb.String()
}

func shapeStr(shape []int) string { return fmt.Sprint(shape) }
