package tokenizer

import "math"

// noRank marks a pair that is not a token.
const noRank = math.MaxInt32

// smallPiece is the longest piece merged by the simple quadratic scan; longer pieces (a 20 KB run of
// one letter is a single piece) use the O(n log n) heap version. Both merge the lowest-ranked adjacent
// pair first, the leftmost on ties, so they give the same tokens.
const smallPiece = 64

// rankOf returns the rank of piece[a:b], or noRank.
func (t *BPE) rankOf(piece string, a, b int) int32 {
	return t.rank(piece[a:b])
}

// mergeSmall is tiktoken's byte-pair merge: parts[i] starts at byte start and, merged with the next
// part, would make the token of rank rank. Each round finds the lowest rank by a linear scan.
func (t *BPE) mergeSmall(dst []int, piece string) []int {
	type part struct {
		start int32
		rank  int32 // rank of this part joined with the next
		id    int32 // this part's token
	}
	var buf [smallPiece + 1]part
	n := len(piece)
	parts := buf[:n+1]
	for i := range n {
		parts[i] = part{int32(i), noRank, t.byteID[piece[i]]}
		if i+1 < n {
			parts[i].rank = t.rankOf(piece, i, i+2)
		}
	}
	parts[n] = part{int32(n), noRank, -1}
	for {
		best, bi := int32(noRank), -1
		for i := range len(parts) - 1 {
			if parts[i].rank < best {
				best, bi = parts[i].rank, i
			}
		}
		if bi < 0 {
			break
		}
		// parts[bi] absorbs parts[bi+1]; the pairs it forms with its neighbours change.
		if bi > 0 {
			parts[bi-1].rank = t.rankOf(piece, int(parts[bi-1].start), int(parts[bi+2].start))
		}
		parts[bi].id = best
		if bi+3 < len(parts) {
			parts[bi].rank = t.rankOf(piece, int(parts[bi].start), int(parts[bi+3].start))
		} else {
			parts[bi].rank = noRank
		}
		parts = append(parts[:bi+1], parts[bi+2:]...)
	}
	for _, p := range parts[:len(parts)-1] {
		dst = append(dst, int(p.id))
	}
	return dst
}

// pairEntry is a candidate merge of node left with node right, valid while neither has changed.
type pairEntry struct {
	rank        int32
	left, right int32
	verL, verR  uint32
}

func (a pairEntry) less(b pairEntry) bool {
	return a.rank < b.rank || a.rank == b.rank && a.left < b.left
}

type pairHeap []pairEntry

func (h *pairHeap) push(e pairEntry) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *pairHeap) pop() pairEntry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].less(s[m]) {
			m = l
		}
		if r < len(s) && s[r].less(s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// mergeHeap gives the same result as mergeSmall in O(n log n): the parts form a linked list indexed
// by their first byte, and candidate pairs wait in a heap ordered by (rank, position); an entry whose
// parts have changed since it was pushed is skipped when it surfaces.
func (t *BPE) mergeHeap(dst []int, piece string) []int {
	n := len(piece)
	next := make([]int32, n) // start of the following part, n at the end
	prev := make([]int32, n) // start of the preceding part, -1 at the start
	id := make([]int32, n)
	ver := make([]uint32, n) // bumped whenever a part grows; dead parts get their version bumped too
	h := make(pairHeap, 0, n)
	for i := range n {
		next[i], prev[i], id[i] = int32(i+1), int32(i-1), t.byteID[piece[i]]
	}
	end := func(i int32) int32 { return next[i] }
	tryPush := func(l int32) {
		if l < 0 || int(next[l]) >= n {
			return
		}
		r := next[l]
		if rank := t.rankOf(piece, int(l), int(end(r))); rank != noRank {
			h.push(pairEntry{rank, l, r, ver[l], ver[r]})
		}
	}
	for i := range n - 1 {
		tryPush(int32(i))
	}
	for len(h) > 0 {
		e := h.pop()
		if ver[e.left] != e.verL || ver[e.right] != e.verR || next[e.left] != e.right {
			continue
		}
		l, r := e.left, e.right
		id[l] = e.rank
		ver[l]++
		ver[r]++
		next[l] = next[r]
		if int(next[l]) < n {
			prev[next[l]] = l
		}
		tryPush(prev[l])
		tryPush(l)
	}
	for i := int32(0); int(i) < n; i = next[i] {
		dst = append(dst, int(id[i]))
	}
	return dst
}
