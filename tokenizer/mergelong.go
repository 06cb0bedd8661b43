package tokenizer

import (
	"cmp"
	"math"
	"slices"
	"sync"

	"github.com/goformer/goformer/internal/minheap"
)

// Long pieces are merged by mergeLong, which gives the same tokens as mergeSmall (the lowest-ranked
// adjacent pair first, the leftmost among equal ranks) in time that grows linearly with the piece.
// A megabyte of spaces, digits or one letter is a single piece, so this is what keeps adversarial
// text about as fast as prose.
//
// The parts of the piece form a linked list indexed by their first byte. Each candidate merge (two
// adjacent parts) waits in the bucket of its rank, and a small heap holds the ranks whose buckets are
// not empty. The lowest bucket is drained in order of position, which is the order mergeSmall merges
// it in. A single binary heap of all the candidates would give the same order, but on a long piece
// almost every step of its sift-down misses the cache (2 µs a byte for a megabyte of one letter); a
// bucket is filled and drained in order of position, which memory streams.
//
// Candidates reach a bucket in order of position, as each sweep over the piece goes left to right,
// except where a bucket is fed by two sweeps before it drains; it is then sorted when it starts to
// drain. Nothing reaches a bucket while it drains: merging the pair of rank r never creates another
// pair of rank r, since the new pairs hold its bytes and more, and the same is true of the cascade of
// lower-ranked merges that it may set off (in GPT-2 and cl100k, " SECOND" ranks before "SECOND",
// so " " + "SECOND" is merged as soon as it appears), every pair of which holds the merged part. The bucket does not rely on this, though.

// position is the type of a byte offset in a piece: int32 below 2 GiB (half the memory of int64, so
// fewer cache misses), int64 beyond.
type position interface{ ~int32 | ~int64 }

// span is a candidate merge: the two adjacent parts that together cover piece[start:end]. It is still
// valid if those two parts are unchanged: the part at start ends at some mid in (start, end), and the
// part at mid ends at end (parts only grow, by absorbing their right neighbour).
type span[P position] struct{ start, end P }

func byStart[P position](a, b span[P]) int { return cmp.Compare(a.start, b.start) }

// bucket holds the candidate merges of one rank, and gives them back leftmost first.
type bucket[P position] struct {
	rank     int32
	spans    []span[P] // spans[head:] are waiting, sorted by start while draining
	head     int
	sorted   bool // spans is sorted by start (checked as they arrive)
	draining bool // the bucket has given a candidate and is not yet empty
	queued   bool // its rank is in the rank heap
}

// next returns the leftmost waiting candidate, or false when the bucket is empty (which resets it).
func (b *bucket[P]) next() (span[P], bool) {
	if !b.draining {
		if !b.sorted {
			slices.SortFunc(b.spans, byStart[P])
			b.sorted = true
		}
		b.draining = true
	}
	if b.head == len(b.spans) {
		b.spans, b.head, b.draining = b.spans[:0], 0, false
		return span[P]{}, false
	}
	b.head++
	return b.spans[b.head-1], true
}

// add queues candidate s.
func (b *bucket[P]) add(s span[P]) {
	last := len(b.spans) - 1
	if last >= b.head && s.start < b.spans[last].start {
		if b.draining {
			// Out of order while draining (which mergeLong never does): keep the rest sorted.
			i, _ := slices.BinarySearchFunc(b.spans[b.head:], s, byStart[P])
			b.spans = slices.Insert(b.spans, b.head+i, s)
			return
		}
		b.sorted = false
	}
	b.spans = append(b.spans, s)
}

// longMerge is the working memory of mergeLong, kept in a pool so that its tables are allocated once
// per tokenizer rather than once per piece.
type longMerge[P position] struct {
	end  []P     // end[i]: end of the part that starts at byte i; 0 where no part starts
	prev []P     // prev[i]: start of the part before the one at i, -1 for the first
	id   []int32 // id[i]: token of the part that starts at i

	slot    []int32 // rank -> 1 + index of its bucket, 0 for none (one entry per id)
	buckets []bucket[P]
	ranks   []int32 // min-heap of the ranks of queued buckets
}

func (m *longMerge[P]) bucketFor(r int32) *bucket[P] {
	if k := m.slot[r]; k > 0 {
		return &m.buckets[k-1]
	}
	k := len(m.buckets)
	if k < cap(m.buckets) {
		m.buckets = m.buckets[:k+1] // reuse the slices of a bucket from an earlier piece
		old := &m.buckets[k]
		*old = bucket[P]{rank: r, spans: old.spans[:0], sorted: true}
	} else {
		m.buckets = append(m.buckets, bucket[P]{rank: r, sorted: true})
	}
	m.slot[r] = int32(k + 1)
	return &m.buckets[k]
}

func (m *longMerge[P]) add(r int32, s span[P]) {
	b := m.bucketFor(r)
	b.add(s)
	if !b.queued {
		b.queued = true
		m.pushRank(r)
	}
}

func (m *longMerge[P]) pushRank(r int32) { m.ranks = minheap.Push(m.ranks, r) }

func (m *longMerge[P]) popRank() { m.ranks = minheap.Pop(m.ranks) }

// reset makes m ready for a piece of n bytes, forgetting the buckets of the last one.
func (m *longMerge[P]) reset(n int) {
	for _, b := range m.buckets {
		m.slot[b.rank] = 0
	}
	m.buckets = m.buckets[:0]
	m.ranks = m.ranks[:0]
	if cap(m.end) < n {
		m.end, m.prev, m.id = make([]P, n), make([]P, n), make([]int32, n)
	}
	m.end, m.prev, m.id = m.end[:n], m.prev[:n], m.id[:n]
}

// longMerges is a pool of *longMerge[int32] for one tokenizer (its slot table is as long as the
// vocabulary).
type longMerges struct {
	pool sync.Pool
}

func (p *longMerges) get(vocab int) *longMerge[int32] {
	if m, ok := p.pool.Get().(*longMerge[int32]); ok {
		return m
	}
	return &longMerge[int32]{slot: make([]int32, vocab)}
}

// mergeLong appends the tokens of piece, the same as mergeSmall's.
func (t *BPE) mergeLong(dst []int, piece string) []int {
	if len(piece) > math.MaxInt32 {
		return mergeLongWith(t, &longMerge[int64]{slot: make([]int32, len(t.tokens))}, dst, piece)
	}
	m := t.long.get(len(t.tokens))
	defer t.long.pool.Put(m)
	return mergeLongWith(t, m, dst, piece)
}

// mergeLongWith is mergeLong with the working memory m, whose positions are wide enough for piece.
func mergeLongWith[P position](t *BPE, m *longMerge[P], dst []int, piece string) []int {
	n := P(len(piece))
	m.reset(int(n))
	for i := P(0); i < n; i++ {
		m.end[i], m.prev[i], m.id[i] = i+1, i-1, t.byteID[piece[i]]
	}
	// The first candidates arrive in order of position, so every bucket starts sorted.
	for i := P(0); i+1 < n; i++ {
		if r := t.table.pair[int(piece[i])<<8|int(piece[i+1])]; r != noRank {
			m.add(r, span[P]{i, i + 2})
		}
	}
	try := func(start, end P) {
		if r := t.rank(piece[start:end]); r != noRank {
			m.add(r, span[P]{start, end})
		}
	}
	for len(m.ranks) > 0 {
		r := m.ranks[0]
		s, ok := m.buckets[m.slot[r]-1].next()
		if !ok {
			m.buckets[m.slot[r]-1].queued = false
			m.popRank()
			continue
		}
		mid := m.end[s.start]
		if mid <= s.start || mid >= s.end || m.end[mid] != s.end {
			continue // one of its parts has changed since it was queued
		}
		m.end[s.start], m.end[mid], m.id[s.start] = s.end, 0, r
		if s.end < n {
			m.prev[s.end] = s.start
		}
		// The merged part forms new pairs with its neighbours (which may create buckets, so no
		// pointer into m.buckets is held across these calls).
		if p := m.prev[s.start]; p >= 0 {
			try(p, s.end)
		}
		if s.end < n {
			try(s.start, m.end[s.end])
		}
	}
	for i := P(0); i < n; i = m.end[i] {
		dst = append(dst, int(m.id[i]))
	}
	return dst
}
