package tokenizer

// A long piece of varied text (a megabyte of random letters with no space in it is one piece) is
// merged a chunk of a few kilobytes at a time, so that the parts and candidates of each chunk stay in
// the cache, and the chunks' tokens are joined where that is provably what merging the whole piece
// gives.
//
// The test at a seam. Let L be the tokens of s[:j] and R those of s[j:], each merged on its own, and
// a, b the last token of L and the first of R. If merging the bytes of a+b on their own gives [a b],
// then merging s gives L followed by R.
//
// Proof. Merging s makes the same merges as merging s[:j] and s[j:] side by side, as long as it does
// not merge the one pair that straddles j; suppose it first does so when that pair is (x, y), x the
// last part of s[:j] and y the first of s[j:] at that moment, and (x, y) then the lowest pair of s
// (on ties, the leftmost). Since a is a final token of L, no merge ever joins a part inside a to one
// before it, so the parts inside a go through the same merges, in the same order, as when a's bytes
// are merged alone; x is one of them. Likewise inside b, and y. Merging a+b interleaves those two
// sequences by the same rule (lowest rank first, a's side first on ties), so until it merges
// across j it passes through the state where x and y are side by side, with every pair inside a and
// b that is pending in s at that moment, and no other. (x, y) is lower than all of those, so merging
// a+b merges across j there, if not before, and cannot end as [a b].

// chunkSize is how many bytes of a long piece are merged at a time (a variable so that tests can
// put many seams into short pieces).
var chunkSize = 4096

// mergeWhole merges the piece in one go, with the merge that suits its length.
func (t *BPE) mergeWhole(dst []int, piece string) []int {
	if len(piece) <= smallPiece {
		return t.mergeSmall(dst, piece)
	}
	return t.mergeLong(dst, piece)
}

// maxJoined bounds, in chunks, a run of segments joined because their seams failed. Beyond it the
// seams are failing systematically (in a run of one character they all do), and the rest of the
// piece is merged whole.
const maxJoined = 4

// mergeChunked appends the tokens of piece, as mergeWhole would, merging it chunk by chunk. Where a
// seam fails the test above, the chunks on both sides are merged again as one segment, whose own left
// seam is then tested again, and so on leftwards; so every seam in dst has passed the test. A joined
// segment longer than maxJoined chunks ends the chunking: the rest of the piece from its start is
// merged whole (and, if that breaks the seam before it, the whole piece is). The work is therefore at
// most a few times mergeWhole's, and on varied text, where seams rarely fail, little more than the
// chunks'.
func (t *BPE) mergeChunked(dst []int, piece string) []int {
	base := len(dst)
	type segment struct{ start, tok int } // where a segment starts in piece, and its first token in dst
	var segs []segment
	for pos := 0; pos < len(piece); {
		end := t.seamNear(piece, pos+chunkSize)
		segs = append(segs, segment{pos, len(dst)})
		dst = t.mergeWhole(dst, piece[pos:end])
		for len(segs) > 1 {
			last, prev := segs[len(segs)-1], segs[len(segs)-2]
			if t.joins(dst[last.tok-1], dst[last.tok]) {
				break
			}
			if end-prev.start > maxJoined*chunkSize {
				dst = t.mergeWhole(dst[:prev.tok], piece[prev.start:])
				if prev.start > 0 && !t.joins(dst[prev.tok-1], dst[prev.tok]) {
					dst = t.mergeWhole(dst[:base], piece)
				}
				return dst
			}
			segs = segs[:len(segs)-1]
			dst = t.mergeWhole(dst[:prev.tok], piece[prev.start:end])
		}
		pos = end
	}
	return dst
}

// seamNear returns where to end a chunk that should end at about p: the end of the piece if less
// than a quarter chunk would remain, else the position in the next 64 bytes where the two bytes
// around it have the highest rank (or none): the bytes on either side are then likely to merge with
// their other neighbours first, leaving a token boundary there, so the seam is likely to hold.
func (t *BPE) seamNear(piece string, p int) int {
	if p+chunkSize/4 >= len(piece) {
		return len(piece)
	}
	best, bestRank := p, int32(-1)
	for j := p; j < p+64 && j+1 < len(piece); j++ {
		r := t.table.pair[int(piece[j-1])<<8|int(piece[j])]
		if r == noRank {
			return j
		}
		if r > bestRank {
			best, bestRank = j, r
		}
	}
	return best
}

// joins reports whether merging the bytes of tokens a and b together gives a and b again: the test
// that lets chunks merged apart be joined at their seam.
func (t *BPE) joins(a, b int) bool {
	var buf [2]int
	got := t.mergeWhole(buf[:0], t.tokens[a]+t.tokens[b])
	return len(got) == 2 && got[0] == a && got[1] == b
}
