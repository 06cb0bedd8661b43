package tokenizer

// Rank lookups dominate encoding time, and most lookups are of short strings. Strings of two bytes
// are looked up in a direct table, strings of 3 to 8 bytes in an open-addressing table keyed by the
// bytes packed into a uint64, and only longer ones in a Go map.

const (
	shortMax = 8
	hashMul  = 0x9E3779B97F4A7C15 // 2^64 / golden ratio: spreads packed keys over the top bits
)

type shortEntry struct {
	key  uint64 // the bytes, little-endian, zero-padded
	n    uint8  // length; 0 marks an empty slot
	rank int32
}

// rankTable holds the ranks of the mergeable tokens for fast lookup.
type rankTable struct {
	pair  []int32 // [b0<<8|b1] -> rank of the two-byte string, or noRank
	short []shortEntry
	shift uint // 64 - log2(len(short))
}

func pack(s string) uint64 {
	var k uint64
	for i := len(s) - 1; i >= 0; i-- {
		k = k<<8 | uint64(s[i])
	}
	return k
}

func (rt *rankTable) slot(key uint64, n int) int {
	return int((key*hashMul + uint64(n)) >> rt.shift)
}

func newRankTable(ranks map[string]int32) rankTable {
	rt := rankTable{pair: make([]int32, 1<<16)}
	for i := range rt.pair {
		rt.pair[i] = noRank
	}
	nShort := 0
	for tok := range ranks {
		if len(tok) > 2 && len(tok) <= shortMax {
			nShort++
		}
	}
	size, bits := 16, uint(4)
	for size < 2*nShort {
		size, bits = size*2, bits+1
	}
	rt.short, rt.shift = make([]shortEntry, size), 64-bits
	for tok, r := range ranks {
		switch {
		case len(tok) == 2:
			rt.pair[int(tok[0])<<8|int(tok[1])] = r
		case len(tok) > 2 && len(tok) <= shortMax:
			key := pack(tok)
			i := rt.slot(key, len(tok))
			for rt.short[i].n != 0 {
				i = (i + 1) & (size - 1)
			}
			rt.short[i] = shortEntry{key, uint8(len(tok)), r}
		}
	}
	return rt
}

// rank returns the rank of s, or noRank if s is not a mergeable token.
func (t *BPE) rank(s string) int32 {
	switch n := len(s); {
	case n == 1:
		return t.byteID[s[0]]
	case n == 2:
		return t.table.pair[int(s[0])<<8|int(s[1])]
	case n <= shortMax:
		key := pack(s)
		rt := &t.table
		mask := len(rt.short) - 1
		for i := rt.slot(key, n); ; i = (i + 1) & mask {
			e := &rt.short[i]
			if e.n == 0 {
				return noRank
			}
			if e.key == key && int(e.n) == n {
				return e.rank
			}
		}
	case n <= t.maxLen:
		if r, ok := t.ranks[s]; ok {
			return r
		}
	}
	return noRank
}
