package tensor

import "fmt"

// Gather returns the rows of table (V, C) picked by ids: out[i] = table[ids[i]], shape (len(ids), C).
// It is the embedding lookup. An id outside [0, V) panics; callers validate ids from outside.
func Gather(table *Tensor, ids []int) *Tensor {
	if len(table.shape) != 2 {
		panic(fmt.Sprintf("tensor.Gather: table must be 2-d (V, C), got %v", table.shape))
	}
	v, c := table.shape[0], table.shape[1]
	src := table.Contiguous().Data()
	out := uninit(len(ids), c)
	for i, id := range ids {
		if id < 0 || id >= v {
			panic(fmt.Sprintf("tensor.Gather: id %d at position %d out of range for table %v", id, i, table.shape))
		}
		copy(out.data[i*c:(i+1)*c], src[id*c:(id+1)*c])
	}
	return out
}

// ScatterAdd adds the rows of src (len(ids), C) into the rows of t (V, C) picked by ids, in place:
// t[ids[i]] += src[i]. Repeated ids accumulate. It is Gather's backward pass. t must be contiguous.
func (t *Tensor) ScatterAdd(ids []int, src *Tensor) {
	if len(t.shape) != 2 || len(src.shape) != 2 || src.shape[0] != len(ids) || src.shape[1] != t.shape[1] {
		panic(fmt.Sprintf("tensor.ScatterAdd: table %v, %d ids and source %v do not fit", t.shape, len(ids), src.shape))
	}
	v, c := t.shape[0], t.shape[1]
	dst, s := t.Data(), src.Contiguous().Data()
	for i, id := range ids {
		if id < 0 || id >= v {
			panic(fmt.Sprintf("tensor.ScatterAdd: id %d at position %d out of range for table %v", id, i, t.shape))
		}
		row, add := dst[id*c:(id+1)*c], s[i*c:(i+1)*c]
		for j := range row {
			row[j] += add[j]
		}
	}
}

// Concat joins tensors along axis; all other axes must agree.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor.Concat: no tensors")
	}
	first := ts[0]
	axis = first.axis("Concat", axis)
	shape := append([]int(nil), first.shape...)
	shape[axis] = 0
	for _, t := range ts {
		if len(t.shape) != len(shape) {
			panic(fmt.Sprintf("tensor.Concat: shapes %v and %v differ in rank", first.shape, t.shape))
		}
		for i := range shape {
			if i != axis && t.shape[i] != shape[i] {
				panic(fmt.Sprintf("tensor.Concat: shapes %v and %v differ off axis %d", first.shape, t.shape, axis))
			}
		}
		shape[axis] += t.shape[axis]
	}
	out := uninit(shape...) // every input fills its slot
	start := 0
	for _, t := range ts {
		out.Narrow(axis, start, t.shape[axis]).CopyFrom(t)
		start += t.shape[axis]
	}
	return out
}

// Split cuts t along axis into pieces of the given sizes (which must sum to the axis length).
// The pieces are views of t.
func Split(t *Tensor, axis int, sizes ...int) []*Tensor {
	axis = t.axis("Split", axis)
	total := 0
	for _, s := range sizes {
		total += s
	}
	if total != t.shape[axis] {
		panic(fmt.Sprintf("tensor.Split: sizes %v do not sum to axis %d of shape %v", sizes, axis, t.shape))
	}
	out := make([]*Tensor, len(sizes))
	start := 0
	for i, s := range sizes {
		out[i] = t.Narrow(axis, start, s)
		start += s
	}
	return out
}
