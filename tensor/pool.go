package tensor

import "sync"

// Storage recycling. A training step allocates the same few dozen buffer sizes every time
// (activations, their gradients, scores); handing each to the garbage collector and taking a
// fresh, zeroed one from the runtime costs page faults, clearing and collection work on every
// step. Release puts a tensor's storage on a free list keyed by its exact length, and the kernels
// take their outputs from that list. Only storage a tensor allocated itself is recycled, never
// a view's and never a slice the caller passed to FromSlice.

// minPooled is the smallest storage worth recycling: smaller slices are cheap to allocate.
const minPooled = 1024

// maxPooledFloats bounds what the free lists hold (1 GiB of float32), so a program that releases
// many one-off sizes cannot grow without limit.
const maxPooledFloats = 1 << 28

var pool struct {
	sync.Mutex
	free   map[int][][]float32
	floats int
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
	if n >= minPooled {
		pool.Lock()
		if list := pool.free[n]; len(list) > 0 {
			s := list[len(list)-1]
			pool.free[n] = list[:len(list)-1]
			pool.floats -= n
			pool.Unlock()
			return s
		}
		pool.Unlock()
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
		}
		pool.Unlock()
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
