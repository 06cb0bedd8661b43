package tensor

import (
	"fmt"
	"slices"
)

// This file holds the view operations: each returns a Tensor that shares t's storage.

// view returns a tensor over t's storage at offset, with copies of shape and strides (nil:
// row-major strides).
func (t *Tensor) view(shape, strides []int, offset int) *Tensor {
	owner := t.owner
	if t.owned {
		owner = t
	}
	v := &Tensor{data: t.data, offset: offset, owner: owner}
	v.setLayout(shape, strides)
	return v
}

// Refold is Reshape for a tensor that nobody else holds or views, such as a kernel's fresh
// output: the result takes over t's storage instead of viewing it, so that recycling the result
// (autograd's Discard and Release) reaches the storage, which through a view it would not. t is
// left without storage, as after recycling. A t that does not own its storage (a view, a
// caller's slice) is simply reshaped.
func Refold(t *Tensor, shape ...int) *Tensor {
	r := t.Reshape(shape...)
	if t.owned && t.holders == 0 && t.offset == 0 {
		r.owner, r.owned = nil, true
		t.data, t.owned = nil, false
	}
	return r
}

// Reshape returns a view with a new shape holding the same elements. One dimension may be -1,
// meaning "whatever makes the sizes agree". t must be contiguous (call Contiguous first):
// reshaping a strided view is ambiguous about which copy the caller wants.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	var buf [inlineDims]int // the resolved shape, on the stack (view copies it); errors print clones
	dims := append(buf[:0], shape...)
	infer := -1
	known := 1
	for i, d := range dims {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("tensor.Reshape: bad shape %v for tensor of shape %v", slices.Clone(dims), t.shape))
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || t.Size()%known != 0 {
			panic(fmt.Sprintf("tensor.Reshape: cannot infer -1 in %v for tensor of shape %v", slices.Clone(dims), t.shape))
		}
		dims[infer] = t.Size() / known
		known *= dims[infer]
	}
	if known != t.Size() {
		panic(fmt.Sprintf("tensor.Reshape: shape %v (%d elements) does not match shape %v (%d elements)", slices.Clone(dims), known, t.shape, t.Size()))
	}
	if !t.IsContiguous() {
		panic(fmt.Sprintf("tensor.Reshape: tensor of shape %v with strides %v is not contiguous; call Contiguous first", t.shape, t.strides))
	}
	return t.view(dims, nil, t.offset)
}

// Transpose returns a view with axes a and b swapped (negative axes count from the end).
func (t *Tensor) Transpose(a, b int) *Tensor {
	a, b = t.axis("Transpose", a), t.axis("Transpose", b)
	perm := make([]int, len(t.shape))
	for i := range perm {
		perm[i] = i
	}
	perm[a], perm[b] = perm[b], perm[a]
	return t.Permute(perm...)
}

// T returns the transpose of a 2-d tensor (a view).
func (t *Tensor) T() *Tensor {
	if len(t.shape) != 2 {
		panic(fmt.Sprintf("tensor.T: want a 2-d tensor, got shape %v", t.shape))
	}
	return t.Transpose(0, 1)
}

// Permute returns a view whose axis i is t's axis perm[i].
func (t *Tensor) Permute(perm ...int) *Tensor {
	if len(perm) != len(t.shape) {
		panic(fmt.Sprintf("tensor.Permute: permutation %v for shape %v", perm, t.shape))
	}
	seen := make([]bool, len(perm))
	shape := make([]int, len(perm))
	strides := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			panic(fmt.Sprintf("tensor.Permute: %v is not a permutation of the axes of shape %v", perm, t.shape))
		}
		seen[p] = true
		shape[i], strides[i] = t.shape[p], t.strides[p]
	}
	return t.view(shape, strides, t.offset)
}

// Narrow returns the view t[..., start:start+length, ...] along axis.
func (t *Tensor) Narrow(axis, start, length int) *Tensor {
	axis = t.axis("Narrow", axis)
	if start < 0 || length < 0 || start+length > t.shape[axis] {
		panic(fmt.Sprintf("tensor.Narrow: [%d:%d] out of range on axis %d of shape %v", start, start+length, axis, t.shape))
	}
	v := t.view(t.shape, t.strides, t.offset+start*t.strides[axis])
	v.shape[axis] = length // v's own copy
	return v
}

// Index returns the view t[..., i, ...] with axis removed.
func (t *Tensor) Index(axis, i int) *Tensor {
	axis = t.axis("Index", axis)
	return t.Narrow(axis, i, 1).Squeeze(axis)
}

// Expand returns a broadcast view of t with the given shape: axes of length 1 (and new leading
// axes) repeat with stride 0. Writing through an expanded view writes every alias at once.
func (t *Tensor) Expand(shape ...int) *Tensor {
	if len(shape) < len(t.shape) {
		panic(fmt.Sprintf("tensor.Expand: cannot expand shape %v to %v", t.shape, shape))
	}
	lead := len(shape) - len(t.shape)
	strides := make([]int, len(shape))
	for i := range shape {
		if i < lead {
			continue // new axes have stride 0
		}
		d := t.shape[i-lead]
		switch {
		case d == shape[i]:
			strides[i] = t.strides[i-lead]
		case d == 1:
			strides[i] = 0
		default:
			panic(fmt.Sprintf("tensor.Expand: cannot expand shape %v to %v", t.shape, shape))
		}
	}
	return t.view(shape, strides, t.offset)
}

// Squeeze removes axis, which must have length 1.
func (t *Tensor) Squeeze(axis int) *Tensor {
	axis = t.axis("Squeeze", axis)
	if t.shape[axis] != 1 {
		panic(fmt.Sprintf("tensor.Squeeze: axis %d of shape %v has length %d, want 1", axis, t.shape, t.shape[axis]))
	}
	shape := append(append([]int(nil), t.shape[:axis]...), t.shape[axis+1:]...)
	strides := append(append([]int(nil), t.strides[:axis]...), t.strides[axis+1:]...)
	return t.view(shape, strides, t.offset)
}

// Unsqueeze inserts an axis of length 1 before position axis (0..Dims(); negative counts from the end
// of the result).
func (t *Tensor) Unsqueeze(axis int) *Tensor {
	if axis < 0 {
		axis += len(t.shape) + 1
	}
	if axis < 0 || axis > len(t.shape) {
		panic(fmt.Sprintf("tensor.Unsqueeze: axis %d out of range for shape %v", axis, t.shape))
	}
	stride := 1
	if axis < len(t.shape) {
		stride = t.strides[axis] * t.shape[axis]
	}
	shape := append(append(append([]int(nil), t.shape[:axis]...), 1), t.shape[axis:]...)
	strides := append(append(append([]int(nil), t.strides[:axis]...), stride), t.strides[axis:]...)
	return t.view(shape, strides, t.offset)
}
