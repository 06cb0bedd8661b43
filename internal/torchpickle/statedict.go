package torchpickle

import (
	"fmt"
	"math"
	"slices"
)

// This file gives the pickle machine torch.save's meaning: which globals a state dict may name,
// what a persistent id means (a storage record in the archive), how _rebuild_tensor_v2 makes a
// tensor view of a storage, and the checks that keep every view inside the bytes on disk.

// dtype is an element type: its safetensors-style name and its size in bytes.
type dtype struct {
	name string
	size int
}

// storageTypes maps torch's legacy storage classes, which torch.save names in every persistent
// id, to their element types.
var storageTypes = map[string]dtype{
	"DoubleStorage":   {"F64", 8},
	"FloatStorage":    {"F32", 4},
	"HalfStorage":     {"F16", 2},
	"BFloat16Storage": {"BF16", 2},
	"LongStorage":     {"I64", 8},
	"IntStorage":      {"I32", 4},
	"ShortStorage":    {"I16", 2},
	"CharStorage":     {"I8", 1},
	"ByteStorage":     {"U8", 1},
	"BoolStorage":     {"BOOL", 1},
}

// The callables a state dict's pickle may name. They are markers: REDUCE recognises them and
// builds the result itself, so no name in a file ever selects code beyond this list.
type callable int

const (
	callOrderedDict     callable = iota + 1 // collections.OrderedDict
	callRebuildTensorV2                     // torch._utils._rebuild_tensor_v2
	callRebuildParam                        // torch._utils._rebuild_parameter
)

func (c callable) String() string {
	switch c {
	case callOrderedDict:
		return "collections.OrderedDict"
	case callRebuildTensorV2:
		return "torch._utils._rebuild_tensor_v2"
	case callRebuildParam:
		return "torch._utils._rebuild_parameter"
	}
	return "callable?"
}

// storageType is a storage class named by GLOBAL, such as torch.FloatStorage.
type storageType struct {
	class string
	dt    dtype
}

func (s storageType) String() string { return "torch." + s.class }

// storage is one storage record of the archive, as a persistent id describes it.
type storage struct {
	key   string // the record's name under <prefix>/data/
	dt    dtype
	numel int64 // elements, as the persistent id claims; checked against the record's size
}

func (s *storage) String() string { return "storage" }

// tensorRef is a tensor as _rebuild_tensor_v2 describes it: a strided view of a storage. Its
// bounds are checked (check) once its name is known, so that errors can name it.
type tensorRef struct {
	st     *storage
	offset int64 // in elements
	shape  []int64
	stride []int64 // in elements
}

func (t *tensorRef) String() string { return "torch.Tensor" }

// globalFor resolves GLOBAL module.name against the allow-list.
func globalFor(module, name string) (any, error) {
	switch module + "." + name {
	case "collections.OrderedDict":
		return callOrderedDict, nil
	case "torch._utils._rebuild_tensor_v2":
		return callRebuildTensorV2, nil
	case "torch._utils._rebuild_parameter":
		return callRebuildParam, nil
	}
	if module == "torch" {
		if dt, ok := storageTypes[name]; ok {
			return storageType{class: name, dt: dt}, nil
		}
	}
	return nil, fmt.Errorf("GLOBAL %s.%s is not allowed: a state dict may only name OrderedDict, "+
		"torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch's storage types", module, name)
}

// stateDictReader holds what the hooks need while one data.pkl is run.
type stateDictReader struct {
	// recordSize returns the size in bytes of the storage record named key, and whether it exists.
	recordSize func(key string) (int64, bool)
	storages   map[string]*storage
}

// persistentLoad resolves torch.save's persistent id ('storage', storage_type, key, location,
// numel) to the storage record it names.
func (r *stateDictReader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) != 5 || t[0] != "storage" {
		return nil, fmt.Errorf("persistent id is not ('storage', type, key, location, numel)")
	}
	typ, ok := t[1].(storageType)
	if !ok {
		return nil, fmt.Errorf("persistent id's storage type is a %s, want a torch storage class", typeName(t[1]))
	}
	key, ok1 := t[2].(string)
	_, ok2 := t[3].(string) // the device it was saved from: irrelevant on the way in
	numel, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 || numel < 0 {
		return nil, fmt.Errorf("persistent id (%s, %s, %s, %s, %s) is not ('storage', type, str, str, non-negative int)",
			typeName(t[0]), typeName(t[1]), typeName(t[2]), typeName(t[3]), typeName(t[4]))
	}
	if s, ok := r.storages[key]; ok {
		// Tensors that share a storage (tied weights, views) name it again; torch.save gives every
		// mention the same type and size.
		if s.dt != typ.dt || s.numel != numel {
			return nil, fmt.Errorf("storage %q is named as %d %s elements and as %d %s elements", key, s.numel, s.dt.name, numel, typ.dt.name)
		}
		return s, nil
	}
	size, ok := r.recordSize(key)
	if !ok {
		return nil, fmt.Errorf("storage %q is missing from the archive (no data/%s record)", key, key)
	}
	if numel > size/int64(typ.dt.size) {
		return nil, fmt.Errorf("storage %q claims %d %s elements but its record holds %d bytes", key, numel, typ.dt.name, size)
	}
	s := &storage{key: key, dt: typ.dt, numel: numel}
	r.storages[key] = s
	return s, nil
}

// reduce applies an allowed callable to its arguments.
func (r *stateDictReader) reduce(fn any, args pyTuple) (any, error) {
	c, ok := fn.(callable)
	if !ok {
		return nil, fmt.Errorf("cannot call a %s", typeName(fn))
	}
	switch c {
	case callOrderedDict:
		if len(args) != 0 {
			return nil, fmt.Errorf("OrderedDict called with %d arguments, want none", len(args))
		}
		return newDict(), nil
	case callRebuildTensorV2:
		return rebuildTensor(args)
	case callRebuildParam:
		// _rebuild_parameter(data, requires_grad, backward_hooks): a Parameter is its tensor.
		if len(args) != 3 {
			return nil, fmt.Errorf("_rebuild_parameter called with %d arguments, want 3", len(args))
		}
		t, ok := args[0].(*tensorRef)
		if !ok {
			return nil, fmt.Errorf("_rebuild_parameter of a %s, want a tensor", typeName(args[0]))
		}
		return t, nil
	}
	return nil, fmt.Errorf("cannot call %v", c)
}

// rebuildTensor checks the arguments of _rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]) and returns the tensor they describe.
func rebuildTensor(args pyTuple) (any, error) {
	if len(args) != 6 && len(args) != 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 called with %d arguments, want 6 or 7", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2 of a %s, want a storage", typeName(args[0]))
	}
	offset, ok := args[1].(int64)
	if !ok || offset < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage offset is %v, want a non-negative int", args[1])
	}
	shape, ok := intTuple(args[2])
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size is not a tuple of non-negative ints")
	}
	stride, ok := intTuple(args[3])
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: stride is not a tuple of non-negative ints")
	}
	if len(shape) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in length", shape, stride)
	}
	if _, ok := args[4].(bool); !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: requires_grad is a %s, want a bool", typeName(args[4]))
	}
	// backward_hooks (an empty OrderedDict) and metadata do not change the values.
	return &tensorRef{st: st, offset: offset, shape: shape, stride: stride}, nil
}

// intTuple converts a tuple of non-negative ints.
func intTuple(v any) ([]int64, bool) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, false
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok || n < 0 {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// build applies BUILD's state. torch.save's state_dict is an OrderedDict with a _metadata
// attribute (module versions), which arrives as BUILD with a dict: it says nothing about the
// tensors and is ignored. Nothing else in a state dict is built.
func (r *stateDictReader) build(obj, state any) error {
	if _, ok := obj.(*pyDict); !ok {
		return fmt.Errorf("BUILD on a %s is not supported", typeName(obj))
	}
	switch state.(type) {
	case nil, *pyDict:
		return nil
	}
	return fmt.Errorf("BUILD of a dict with a %s state is not supported", typeName(state))
}

// numel returns the number of elements of shape, and false if it overflows int64.
func numel(shape []int64) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d != 0 && n > math.MaxInt64/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// check verifies that t is a view inside its storage. A view may not have more elements than its
// storage: that only happens when strides make elements overlap (an expand()ed tensor), which
// state dicts do not hold and which would let a few bytes on disk claim an unbounded result.
func (t *tensorRef) check() error {
	n, ok := numel(t.shape)
	if !ok || n > t.st.numel || n > math.MaxInt {
		return fmt.Errorf("size %v has more elements than its storage %q holds (%d); overlapping or expanded views are not supported", t.shape, t.st.key, t.st.numel)
	}
	if n == 0 {
		if t.offset > t.st.numel {
			return fmt.Errorf("storage offset %d lies past the end of storage %q (%d elements)", t.offset, t.st.key, t.st.numel)
		}
		return nil
	}
	// The last element's index is offset + Σ (size_i - 1)·stride_i. Each term is compared with
	// the room left in the storage before it is added, so nothing overflows.
	past := fmt.Errorf("view (offset %d, size %v, stride %v) runs past the end of storage %q (%d elements)", t.offset, t.shape, t.stride, t.st.key, t.st.numel)
	last := t.offset
	if last >= t.st.numel {
		return past
	}
	for i, d := range t.shape {
		s := t.stride[i]
		if d <= 1 || s == 0 {
			continue
		}
		if d-1 > (t.st.numel-1-last)/s {
			return past
		}
		last += (d - 1) * s
	}
	return nil
}

// contiguous reports whether t's elements are one row-major run of its storage.
func (t *tensorRef) contiguous() bool {
	want := int64(1)
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.stride[i] != want {
			return false
		}
		want *= t.shape[i]
	}
	return true
}

// parseStateDict runs a data.pkl and returns its tensors by name, with the names in sorted order.
// recordSize reports the size of the storage records the archive holds. The result must be a
// dict (or OrderedDict) of tensors, each a view inside its storage.
func parseStateDict(pkl []byte, recordSize func(key string) (int64, bool)) ([]string, map[string]*tensorRef, error) {
	r := &stateDictReader{recordSize: recordSize, storages: map[string]*storage{}}
	v, err := unpickle(pkl, hooks{global: globalFor, persistentLoad: r.persistentLoad, reduce: r.reduce, build: r.build})
	if err != nil {
		return nil, nil, err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return nil, nil, fmt.Errorf("the pickle holds a value of type %s, want a state dict (a dict of tensors)", typeName(v))
	}
	tensors := make(map[string]*tensorRef, len(d.keys))
	for _, k := range d.keys {
		t, ok := d.vals[k].(*tensorRef)
		if !ok {
			return nil, nil, fmt.Errorf("state dict entry %q is of type %s, not a tensor", k, typeName(d.vals[k]))
		}
		if err := t.check(); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", k, err)
		}
		tensors[k] = t
	}
	names := slices.Clone(d.keys)
	slices.Sort(names)
	return names, tensors, nil
}
