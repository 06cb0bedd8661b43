package tensor

import (
	"slices"
	"sync"
	"unsafe"
	"weak"
)

// Storage recycling. A training step allocates the same few dozen buffer sizes every time
// (activations, their gradients, scores); handing each to the garbage collector and taking a
// fresh, zeroed one from the runtime costs page faults, clearing and collection work on every
// step. Release puts a tensor's storage on a free list keyed by its exact length, and the kernels
// take their outputs from that list. Only storage a tensor allocated itself is recycled, never
// a view's and never a slice the caller passed to FromSlice.

// minPooled is the smallest storage worth recycling: smaller slices are cheap to allocate.
const minPooled = 1024

// maxPooledFloats bounds what the free lists hold for sure (1 GiB of float32), so a program that
// releases many one-off sizes cannot grow without limit. A variable only for tests.
var maxPooledFloats = 1 << 28

// maxWeakPerLength bounds the weakly held buffers of one length.
const maxWeakPerLength = 1 << 10

// A training step can release more than maxPooledFloats (the baby GPT's activations take about
// 4 GB). Past the bound, released storage is still listed, but weakly: the garbage collector may
// reclaim it, and does at its next cycle, yet until then takeStorage can hand it out again. In a
// training loop the next step asks for the same lengths long before the heap has grown enough
// to start a cycle, so a whole step's storage is reused without ever counting as live. Turning
// it away instead would make it garbage that the next step allocates again, growing the heap
// (and the collector's target with it) to about twice what a step needs.
var pool struct {
	sync.Mutex
	free   map[int][][]float32             // held for sure, at most maxPooledFloats in all
	floats int                             // floats held in free
	weak   map[int][]weak.Pointer[float32] // past the bound: first elements, held weakly
}

// uninit returns a contiguous tensor whose elements are unspecified: for kernels that write
// every element of their output.
func uninit(shape ...int) *Tensor {
	n := numel("uninit", shape)
	t := newContiguous(takeStorage(n), shape)
	t.owned = true
	return t
}

// takeStorage returns a slice of n elements, recycled if one is free (with stale contents).
func takeStorage(n int) []float32 {
	if n < minPooled {
		return make([]float32, n)
	}
	pool.Lock()
	defer pool.Unlock()
	if list := pool.free[n]; len(list) > 0 {
		s := list[len(list)-1]
		pool.free[n] = list[:len(list)-1]
		pool.floats -= n
		return s
	}
	for list := pool.weak[n]; len(list) > 0; list = pool.weak[n] {
		p := list[len(list)-1].Value()
		pool.weak[n] = list[:len(list)-1]
		if p != nil { // not collected yet
			return unsafe.Slice(p, n)
		}
	}
	return make([]float32, n)
}

// Release returns the storage of tensors that allocated their own (the results of this package's
// operations, not views and not FromSlice wrappers) for reuse by later operations. A released
// tensor must not be used again: its data is detached, so reading it panics, but views taken of
// it beforehand still see the recycled storage. Releasing a tensor twice, a view or nil is a no-op.
func Release(ts ...*Tensor) {
	for _, t := range ts {
		if t == nil || !t.owned {
			continue
		}
		s := t.data
		t.data, t.owned = nil, false
		n := len(s)
		if n < minPooled {
			continue
		}
		pool.Lock()
		if pool.floats+n <= maxPooledFloats {
			if pool.free == nil {
				pool.free = map[int][][]float32{}
			}
			pool.free[n] = append(pool.free[n], s)
			pool.floats += n
		} else {
			if pool.weak == nil {
				pool.weak = map[int][]weak.Pointer[float32]{}
			}
			list := pool.weak[n]
			if len(list) >= maxWeakPerLength {
				list = slices.DeleteFunc(list, func(p weak.Pointer[float32]) bool { return p.Value() == nil })
			}
			if len(list) < maxWeakPerLength {
				list = append(list, weak.Make(&s[0]))
			}
			pool.weak[n] = list
		}
		pool.Unlock()
	}
}

// TrimPool hands every recycled buffer back to the garbage collector: for a program that is done
// training and wants the memory for something else.
func TrimPool() {
	pool.Lock()
	pool.free, pool.floats, pool.weak = nil, 0, nil
	pool.Unlock()
}

// ReleaseStorage recycles the storage t views, whichever tensor allocated it: t itself, or the
// result of this package's operation that t is a view of (a reshape of a kernel's output, say).
// Release(t) would do nothing for such a view. The caller must know that nothing reads that
// storage any more, through t, its owner or any other view. Storage that no tensor of this
// package allocated (FromSlice) is never recycled.
func ReleaseStorage(t *Tensor) {
	if t == nil {
		return
	}
	if t.owned {
		Release(t)
		return
	}
	if t.owner != nil && t.owner.owned && cap(t.owner.data) > 0 && &t.owner.data[:1][0] == StorageKey(t) {
		Release(t.owner)
	}
}

// StorageKey identifies the storage t views: every view of one storage has the same key. It is
// nil for a nil tensor or one without storage.
func StorageKey(t *Tensor) *float32 {
	if t == nil || cap(t.data) == 0 {
		return nil
	}
	return &t.data[:1][0]
}

// SharesStorage reports whether a and b are views of the same storage (nil tensors share none).
func SharesStorage(a, b *Tensor) bool {
	ka := StorageKey(a)
	return ka != nil && ka == StorageKey(b)
}
