package tensor

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/hooks"
)

// free recycles a result's storage for the next result of that size, and leaves alone views,
// held storage and storage the caller passed in.
func TestFreeRecyclesOnlyUnheldStorageOfItsOwn(t *testing.T) {
	a := Add(Ones(64, 32), Ones(64, 32))
	first := &a.Data()[0]
	free(a.Reshape(-1))
	assert.Len(t, a.Values(), 64*32, "freeing a view does nothing")
	held := Add(Ones(64, 32), Ones(64, 32))
	hold(held)
	free(held)
	assert.Len(t, held.Values(), 64*32, "held storage is not freed")
	free(a)
	assert.Panics(t, func() { a.Values() }, "a freed tensor is detached")
	b := Exp(FromSlice(make([]float32, 64*32), 64, 32))
	assert.Same(t, first, &b.Data()[0], "the next result of that size reuses the storage")
	assert.Equal(t, Ones(64, 32).Values(), b.Values())

	user := make([]float32, 4096)
	v := FromSlice(user, 4096)
	free(v)
	free(v.Reshape(64, 64))
	free(nil)
	assert.Len(t, v.Values(), 4096, "storage the caller passed in is never recycled")
	assert.NotSame(t, &user[0], &Zeros(4096).Data()[0])
}

// Holders are counted on the storage, whichever view declares them, and the last Drop recycles
// it. The test goes through the hooks that autograd uses, so it also checks their registration.
func TestHoldersAreCountedThroughViews(t *testing.T) {
	st := hooks.Lookup[hooks.Storage[Tensor]]()
	a := Add(Ones(64, 32), Ones(64, 32))
	flat := a.Reshape(-1)
	part := flat.Narrow(0, 0, 32)
	require.True(t, st.Hold(flat))
	require.True(t, st.Hold(a))
	assert.Equal(t, 2, st.Holders(part), "a view of a view reaches the same count")
	st.Drop(flat)
	assert.Equal(t, 1, st.Holders(a))
	assert.Len(t, a.Values(), 64*32, "one holder is left")
	st.Drop(part)
	assert.Zero(t, st.Holders(a))
	assert.Panics(t, func() { a.Values() }, "the last Drop recycles the storage")
	assert.False(t, st.Hold(flat), "recycled storage cannot be held again")

	user := FromSlice(make([]float32, 4096), 64, 64)
	assert.False(t, st.Hold(user), "storage the caller passed in is not counted")
	assert.Zero(t, st.Holders(user))
	st.Drop(user)
	assert.Len(t, user.Values(), 4096, "and not recycled")
}

// Past maxPooledFloats, released storage is held weakly: handed out again while the garbage
// collector has not run, and not kept alive by the free lists.
func TestPoolHoldsOverflowWeakly(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection unless asked
	trimPool()
	defer func(limit int) { maxPooledFloats = limit }(maxPooledFloats)
	maxPooledFloats = 1 << 22
	const n = 1 << 18
	full := maxPooledFloats - pool.floats
	filler := make([]*Tensor, 0, full/n+1)
	for range full/n + 1 {
		filler = append(filler, Zeros(n))
	}
	for _, f := range filler {
		release(f) // the last one or two no longer fit
	}
	extra := Zeros(n + 1)
	first := &extra.Data()[0]
	release(extra)
	again := Zeros(n + 1)
	assert.Same(t, first, &again.Data()[0], "overflow is reused before a collection")
	release(again)
	first, again = nil, nil // nothing but the weak entry may point at the buffer
	require.Len(t, pool.weak[n+1], 1)
	runtime.GC()
	assert.Nil(t, pool.weak[n+1][0].Value(), "a collection reclaims the overflow")
	assert.Equal(t, make([]float32, n+1), Zeros(n+1).Values())
	assert.Empty(t, pool.weak[n+1], "a reclaimed entry is dropped when met")
	trimPool()
	assert.Zero(t, pool.floats)
}
