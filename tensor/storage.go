package tensor

import "github.com/goformer/goformer/internal/hooks"

// Storage lifetime, lent to package autograd (hooks.Storage) and to no one else. Recycling is
// safe only where the caller knows that nothing reads a storage any more; autograd knows it for
// the tensors of a step's graph, a user of this package does not, so nothing here is exported.
// A storage is named by the tensor that allocated it (owned): a view reaches it through owner.

func init() {
	hooks.Provide(hooks.Storage[Tensor]{Hold: hold, Drop: drop, Holders: holders, Free: free})
}

// allocator returns the tensor that allocated the storage t views (t, or the tensor t is a
// view of), or nil if that storage is the caller's (FromSlice) or was recycled already.
func allocator(t *Tensor) *Tensor {
	switch {
	case t == nil:
		return nil
	case t.owned:
		return t
	case t.owner != nil && t.owner.owned:
		return t.owner
	}
	return nil
}

// hold counts one more holder of the storage t views; false if this package does not recycle it.
func hold(t *Tensor) bool {
	a := allocator(t)
	if a == nil {
		return false
	}
	a.holders++
	return true
}

// drop counts one holder fewer of the storage t views, and recycles it when none is left.
func drop(t *Tensor) {
	a := allocator(t)
	if a == nil {
		return
	}
	if a.holders > 0 {
		a.holders--
	}
	if a.holders == 0 {
		release(a)
	}
}

// holders returns how many holders the storage t views has.
func holders(t *Tensor) int {
	if a := allocator(t); a != nil {
		return int(a.holders)
	}
	return 0
}

// free recycles the storage t allocated itself if nobody holds it. A view is left alone even
// when its storage is free: autograd frees the values of a graph, and a view among them may be
// of a parameter, whose storage is held by nothing but the model.
func free(t *Tensor) {
	if t != nil && t.owned && t.holders == 0 {
		release(t)
	}
}
