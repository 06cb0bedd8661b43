package hf

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/goformer/goformer/internal/minheap"
)

// Long words (a megabyte of one letter is a single piece, and a file without a pre-tokenizer makes
// the whole text one word) are merged by mergeLong, in time that grows linearly with the word. It
// makes the same merges in the same order as Hugging Face's priority queue (lowest rank first, then
// leftmost), but keeps the candidates in one bucket per rank, filled and drained in order of
// position, with a small heap of the ranks whose buckets are not empty: a heap of all candidates
// misses the cache at almost every step on a long word.

// index is the type of a symbol index: int32 below 2^31 symbols (half the memory), int64 beyond.
type index interface{ ~int32 | ~int64 }

// cand is a candidate merge of symbol pos with the symbol after it, whose ids were left and right
// when it was queued; it is stale if either has changed. (The symbol after pos can only change by
// being merged into pos, which changes pos's id, or by merging with its own right neighbour, which
// changes its id: a merge makes a longer token.)
type cand[I index] struct {
	pos         I
	left, right int32
	id          int32 // the token the merge makes
}

// rankBucket holds the candidates of one rank, leftmost first.
type rankBucket[I index] struct {
	rank     int32
	items    []cand[I] // items[head:] are waiting
	head     int
	sorted   bool // items are in order of position
	draining bool
	queued   bool // rank is in the heap of ranks
}

func (b *rankBucket[I]) add(c cand[I]) {
	if n := len(b.items); n > b.head && c.pos < b.items[n-1].pos {
		if b.draining {
			// Only a file whose merges contradict its vocabulary gets here: keep the rest sorted.
			i, _ := slices.BinarySearchFunc(b.items[b.head:], c, byPos[I])
			b.items = slices.Insert(b.items, b.head+i, c)
			return
		}
		b.sorted = false
	}
	b.items = append(b.items, c)
}

func byPos[I index](a, b cand[I]) int {
	switch {
	case a.pos < b.pos:
		return -1
	case a.pos > b.pos:
		return 1
	}
	return 0
}

// next returns the leftmost waiting candidate, or false when the bucket is empty (which resets it).
func (b *rankBucket[I]) next() (cand[I], bool) {
	if !b.draining {
		if !b.sorted {
			slices.SortStableFunc(b.items[b.head:], byPos[I])
			b.sorted = true
		}
		b.draining = true
	}
	if b.head == len(b.items) {
		b.items, b.head, b.draining = b.items[:0], 0, false
		return cand[I]{}, false
	}
	b.head++
	return b.items[b.head-1], true
}

// longMerge is the working memory of mergeLong, pooled so that its tables are allocated once.
type longMerge[I index] struct {
	next, prev []I
	id         []int32 // -1 for a symbol merged into the one before it

	slot    []int32 // rank -> 1 + index of its bucket, 0 for none
	buckets []rankBucket[I]
	ranks   []int32 // min-heap of the ranks of queued buckets
}

func (m *longMerge[I]) add(c cand[I], rank int32) {
	k := m.slot[rank]
	if k == 0 {
		n := len(m.buckets)
		if n < cap(m.buckets) {
			m.buckets = m.buckets[:n+1] // reuse a bucket's slice from an earlier word
			old := &m.buckets[n]
			*old = rankBucket[I]{rank: rank, items: old.items[:0], sorted: true}
		} else {
			m.buckets = append(m.buckets, rankBucket[I]{rank: rank, sorted: true})
		}
		k = int32(n + 1)
		m.slot[rank] = k
	}
	b := &m.buckets[k-1]
	b.add(c)
	if !b.queued {
		b.queued = true
		m.pushRank(rank)
	}
}

func (m *longMerge[I]) pushRank(r int32) { m.ranks = minheap.Push(m.ranks, r) }

func (m *longMerge[I]) popRank() { m.ranks = minheap.Pop(m.ranks) }

func (m *longMerge[I]) reset(n int) {
	for _, b := range m.buckets {
		m.slot[b.rank] = 0
	}
	m.buckets, m.ranks = m.buckets[:0], m.ranks[:0]
	if cap(m.next) < n {
		m.next, m.prev, m.id = make([]I, n), make([]I, n), make([]int32, n)
	}
	m.next, m.prev, m.id = m.next[:n], m.prev[:n], m.id[:n]
}

// longPool keeps the working memory of one model's long merges. A sync.Pool alone loses it at every
// garbage collection, and a long word allocates enough to cause one, so that every long word would
// start from fresh memory: spare keeps one set alive, if it is not huge.
type longPool struct {
	pool  sync.Pool
	spare atomic.Pointer[longMerge[int32]]
}

func (p *longPool) get(nMerges int) *longMerge[int32] {
	if lm := p.spare.Swap(nil); lm != nil {
		return lm
	}
	if lm, ok := p.pool.Get().(*longMerge[int32]); ok {
		return lm
	}
	return &longMerge[int32]{slot: make([]int32, nMerges)}
}

// maxSpare is the most symbols whose working memory (about 50 bytes a symbol) the spare keeps.
const maxSpare = 1 << 21

func (p *longPool) put(lm *longMerge[int32]) {
	if cap(lm.next) > maxSpare || !p.spare.CompareAndSwap(nil, lm) {
		p.pool.Put(lm)
	}
}

// mergeLong appends the tokens of a long word, the same as mergeScan's.
func (m *bpe) mergeLong(dst []int, syms []symbol) []int {
	if len(syms) >= math.MaxInt32 {
		return mergeLongWith(m, &longMerge[int64]{slot: make([]int32, m.nMerges)}, dst, syms)
	}
	lm := m.long.get(m.nMerges)
	defer m.long.put(lm)
	return mergeLongWith(m, lm, dst, syms)
}

func mergeLongWith[I index](m *bpe, lm *longMerge[I], dst []int, syms []symbol) []int {
	n := I(len(syms))
	lm.reset(len(syms))
	for i := I(0); i < n; i++ {
		lm.next[i], lm.prev[i], lm.id[i] = i+1, i-1, syms[i].id
	}
	try := func(p, r I) {
		if v, ok := m.merges.get(lm.id[p], lm.id[r]); ok {
			lm.add(cand[I]{p, lm.id[p], lm.id[r], v.id}, v.rank)
		}
	}
	for i := I(0); i+1 < n; i++ {
		try(i, i+1)
	}
	for len(lm.ranks) > 0 {
		r := lm.ranks[0]
		b := &lm.buckets[lm.slot[r]-1]
		c, ok := b.next()
		if !ok {
			b.queued = false
			lm.popRank()
			continue
		}
		right := lm.next[c.pos]
		if lm.id[c.pos] != c.left || right >= n || lm.id[right] != c.right {
			continue // one of its symbols has changed since it was queued
		}
		// Symbol pos absorbs symbol right, and forms new pairs with its neighbours (which may add
		// buckets, so no pointer into lm.buckets is kept across these calls).
		lm.id[c.pos], lm.id[right] = c.id, -1
		nx := lm.next[right]
		lm.next[c.pos] = nx
		if nx < n {
			lm.prev[nx] = c.pos
		}
		if p := lm.prev[c.pos]; p >= 0 {
			try(p, c.pos)
		}
		if nx < n {
			try(c.pos, nx)
		}
	}
	for i := I(0); i < n; i = lm.next[i] {
		dst = append(dst, int(lm.id[i]))
	}
	return dst
}
