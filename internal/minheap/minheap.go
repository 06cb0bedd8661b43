// Package minheap is a binary min-heap of int32 keys kept in a plain slice, shared by the BPE
// merges of tokenizer and tokenizer/hf, which pop the lowest merge rank of a long word many
// times over: q[0] is always the smallest key.
package minheap

// Push adds r to the heap q and returns the heap.
func Push(q []int32, r int32) []int32 {
	q = append(q, r)
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p] <= q[i] {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
	return q
}

// Pop removes the smallest key, q[0], from the non-empty heap q and returns the heap.
func Pop(q []int32) []int32 {
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, r, k := 2*i+1, 2*i+2, i
		if l < len(q) && q[l] < q[k] {
			k = l
		}
		if r < len(q) && q[r] < q[k] {
			k = r
		}
		if k == i {
			return q
		}
		q[i], q[k] = q[k], q[i]
		i = k
	}
}
