package tokenizer

import "math"

// noRank marks a pair that is not a token.
const noRank = math.MaxInt32

// smallPiece is the longest piece merged by the simple quadratic scan; longer pieces (a 20 KB run of
// one letter is a single piece) go to mergeLong, whose time grows linearly. Both merge the
// lowest-ranked adjacent pair first, the leftmost on ties, so they give the same tokens.
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
