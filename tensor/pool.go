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
// step. release puts a tensor's storage on a free list keyed by its exact length, and the kernels
// take their outputs from that list. Only storage a tensor allocated itself is recycled, never
// a slice the caller passed to FromSlice; who may recycle what is decided in storage.go. It saves
// about a quarter of a training step's CPU time (BenchmarkTrainStepSmall on one thread: 32 ms
// against 42 ms with release made a no-op; AMD EPYC family 26 model 2, 2026-12-05).

// minPooled is the smallest storage worth recycling: smaller slices are cheap to allocate. (128,
// not 1024: a decoding step's tensors are rows of C = 576 or KV heads of 192 floats, and fresh
// memory for each cost more than their kernels; see autograd.Discard.)
const minPooled = 128

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

// release puts the storage t allocated back on the free lists and detaches t, so that reading
// t afterwards panics rather than seeing whatever reuses the storage (views taken of t earlier
// still see it: their holders must know it is dead). Only storage t allocated itself is recycled.
func release(t *Tensor) {
	if t == nil || !t.owned {
		return
	}
	s := t.data
	t.data, t.owned = nil, false
	n := len(s)
	if n < minPooled {
		return
	}
	pool.Lock()
	defer pool.Unlock()
	if pool.floats+n <= maxPooledFloats {
		if pool.free == nil {
			pool.free = map[int][][]float32{}
		}
		pool.free[n] = append(pool.free[n], s)
		pool.floats += n
		return
	}
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

// TrimPool hands every recycled buffer back to the garbage collector: for a program that has
// finished a large computation (a training run) and wants its memory back before the next one,
// which would otherwise find up to 1 GiB of the last one's buffers still held for reuse.
func TrimPool() { trimPool() }

// trimPool hands every recycled buffer back to the garbage collector.
func trimPool() {
	pool.Lock()
	pool.free, pool.floats, pool.weak = nil, 0, nil
	pool.Unlock()
}
