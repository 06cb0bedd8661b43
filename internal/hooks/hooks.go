// Package hooks lends functions from one goformer package to another without exporting them.
// Package tensor lends autograd its storage bookkeeping (Storage), and autograd lends the
// optimisers a way to reach gradients without handing them out to a caller (Grads): both are
// speed plumbing that a user of the library must not see, let alone call.
//
// The lender registers a struct of functions from an init function; the borrower looks it up by
// the struct's type, whose type parameters name the lender's types (Storage[tensor.Tensor]), so
// the compiler checks every call and a mismatch panics at start-up, not in the middle of a step.
// Go initialises an imported package, init functions included, before the package that imports
// it, so a package variable set from Lookup always finds what its imports registered.
package hooks

import (
	"fmt"
	"reflect"
)

// registered maps each struct type to the one value registered as it. It is written only during
// package initialisation, which runs on one goroutine, and only read afterwards.
var registered = map[reflect.Type]any{}

// Provide registers h as the one value of type H. Call it from an init function; registering a
// type twice panics.
func Provide[H any](h H) {
	t := reflect.TypeFor[H]()
	if _, dup := registered[t]; dup {
		panic(fmt.Sprintf("hooks.Provide: %v registered twice", t))
	}
	registered[t] = h
}

// Lookup returns the value registered as H, and panics if none was: the lender's package is
// not linked into the program, or it registers another type.
func Lookup[H any]() H {
	h, ok := registered[reflect.TypeFor[H]()]
	if !ok {
		panic(fmt.Sprintf("hooks.Lookup: nothing registered as %v", reflect.TypeFor[H]()))
	}
	return h.(H)
}

// Storage is package tensor's bookkeeping of the storage its kernels allocate, for package
// autograd, which knows when a step's tensors are dead. T is tensor.Tensor.
//
// Each storage counts its holders: autograd holds a storage for every Var whose gradient views
// it, so that a gradient passed on without a copy (through a reshape, or to both operands of an
// addition) is neither written in place while another Var holds it nor recycled early. Storage
// the caller passed in (FromSlice) is never counted and never recycled.
type Storage[T any] struct {
	// Hold counts one more holder of the storage t views (t's own, or that of the tensor t is a
	// view of). It returns false, counting nothing, for storage that tensor does not recycle.
	Hold func(t *T) bool
	// Drop counts one holder fewer, and recycles the storage when none is left.
	Drop func(t *T)
	// Holders returns the count of the storage t views: 0 for storage nobody holds, or that
	// tensor does not recycle.
	Holders func(t *T) int
	// Free recycles the storage t allocated itself, unless a holder holds it. A view or nil is
	// left alone. A freed tensor is detached: reading it panics. (Not variadic: a variadic call
	// through a func value allocates its argument slice on the heap.)
	Free func(t *T)
}

// Grads is package autograd's access to a Var's gradient for the optimisers. V is
// autograd.Var and T is tensor.Tensor. Going through here, rather than through Var.Grad,
// leaves the gradient's storage free to be recycled by ZeroGrad, since the optimiser keeps no
// reference to it after its call.
type Grads[V, T any] struct {
	// Read returns v's gradient (nil if it has none) for reading only.
	Read func(v *V) *T
	// Write returns v's gradient for writing in place: if a caller holds it (through Var.Grad) or
	// another Var shares it, v gets a copy first, so that what they hold does not change.
	Write func(v *V) *T
}
