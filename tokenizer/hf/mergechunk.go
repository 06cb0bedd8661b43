package hf

// A long word of varied text (a SentencePiece-style file does not pre-tokenize, so a whole document
// is one word) is merged a chunk of a few thousand symbols at a time, so that the working memory of
// each chunk stays in the cache, and the chunks' tokens are joined where that provably gives what
// merging the whole word gives.
//
// The test at a seam. Let L be the tokens of the symbols before the seam and R those after, each
// merged on its own, a the last token of L and b the first of R. If merging the symbols of a and b
// on their own gives [a b], merging the whole word gives L followed by R. Merging the whole word
// makes the same merges as merging the two sides apart until it first merges across the seam, say
// parts x and y; that merge then has the lowest rank in the word (the leftmost among equals). The
// parts inside a go through the same merges in the same order as when a's symbols are merged alone,
// since a is a final token of L and nothing inside it ever merges with what is before it; x is one of
// them, and likewise y inside b. Merging a's and b's symbols together interleaves these two sequences
// by the same rule, so it reaches a state where x and y are side by side with no lower pending merge,
// merges across the seam there (if not before), and cannot end as [a b].

// chunkSyms is how many symbols of a long word are merged at a time (a variable so that tests can
// put many seams into short words).
var chunkSyms = 4096

// maxJoined bounds, in chunks, a run of chunks joined because their seams failed; beyond it the seams
// are failing systematically (as in a run of one letter) and the rest of the word is merged whole.
const maxJoined = 4

// mergeWhole merges syms (which it leaves unchanged) in one go.
func (m *bpe) mergeWhole(dst []int, syms []symbol) []int {
	if len(syms) <= smallWord {
		var buf [smallWord]symbol
		return m.mergeScan(dst, append(buf[:0], syms...))
	}
	return m.mergeLong(dst, syms)
}

// mergeChunked appends the tokens of syms, as mergeWhole would, merging it chunk by chunk. Where a
// seam fails the test, the chunks on both sides are merged again as one segment, whose own left seam
// is then tested again, and so on leftwards, so that every seam left in dst has passed. A joined
// segment longer than maxJoined chunks ends the chunking: the rest of the word is merged whole from
// its start (and, if that breaks the seam before it, the whole word is).
func (m *bpe) mergeChunked(dst []int, syms []symbol) []int {
	base := len(dst)
	type segment struct{ start, tok int } // first symbol of a segment, and its first token in dst
	var segs []segment
	for pos := 0; pos < len(syms); {
		end := m.seamNear(syms, pos+chunkSyms)
		segs = append(segs, segment{pos, len(dst)})
		dst = m.mergeWhole(dst, syms[pos:end])
		for len(segs) > 1 {
			last, prev := segs[len(segs)-1], segs[len(segs)-2]
			if m.joins(syms, dst, last.start, last.tok) {
				break
			}
			if end-prev.start > maxJoined*chunkSyms {
				dst = m.mergeWhole(dst[:prev.tok], syms[prev.start:])
				if prev.start > 0 && !m.joins(syms, dst, prev.start, prev.tok) {
					dst = m.mergeWhole(dst[:base], syms)
				}
				return dst
			}
			segs = segs[:len(segs)-1]
			dst = m.mergeWhole(dst[:prev.tok], syms[prev.start:end])
		}
		pos = end
	}
	return dst
}

// seamNear returns where to end a chunk that should end at about p: the end of the word if less than
// a quarter chunk would remain, else the first place in the next 64 symbols where the two symbols
// around it have no merge, or else the one whose merge ranks last (the symbols on either side are
// then likely to merge with their other neighbours first, so the seam is likely to hold).
func (m *bpe) seamNear(syms []symbol, p int) int {
	if p+chunkSyms/4 >= len(syms) {
		return len(syms)
	}
	best, bestRank := p, int32(-1)
	for j := p; j < p+64 && j+1 < len(syms); j++ {
		v, ok := m.merges.get(syms[j-1].id, syms[j].id)
		if !ok {
			return j
		}
		if v.rank > bestRank {
			best, bestRank = j, v.rank
		}
	}
	return best
}

// joins reports whether the seam before symbol s, where dst[t] is the first token after it, passes
// the test: merging the symbols of the tokens on either side gives those two tokens again.
func (m *bpe) joins(syms []symbol, dst []int, s, t int) bool {
	a, b := dst[t-1], dst[t]
	ca, cb := int(m.symCount[a]), int(m.symCount[b])
	if ca <= 0 || cb <= 0 || s-ca < 0 || s+cb > len(syms) {
		return false
	}
	var buf [2]int
	got := m.mergeWhole(buf[:0], syms[s-ca:s+cb])
	return len(got) == 2 && got[0] == a && got[1] == b
}
