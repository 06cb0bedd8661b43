package tokenizer

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Encode returns the token ids of text, treating special-token strings as ordinary text.
func (t *BPE) Encode(text string) []int {
	return t.AppendEncode(make([]int, 0, len(text)/3+1), text)
}

// AppendEncode appends the ids of text (special-token strings as ordinary text) to dst.
func (t *BPE) AppendEncode(dst []int, text string) []int {
	t.split.each(text, func(start, end int) {
		dst = t.appendPiece(dst, text[start:end])
	})
	return dst
}

// Count returns the number of tokens in text (specials as ordinary text).
func (t *BPE) Count(text string) int {
	n := 0
	var buf []int
	t.split.each(text, func(start, end int) {
		piece := text[start:end]
		if t.rank(piece) != noRank {
			n++
			return
		}
		buf = t.appendPiece(buf[:0], piece)
		n += len(buf)
	})
	return n
}

// EncodeSpecial returns the ids of text, where each occurrence of a special token named in allowed
// becomes that token's id. Special-token strings not in allowed are ordinary text, as in tiktoken's
// encode(text, allowed_special=allowed, disallowed_special=()). Naming a token that is not one of
// this tokenizer's specials is an error. Pass t.SpecialNames() to allow them all.
func (t *BPE) EncodeSpecial(text string, allowed []string) ([]int, error) {
	if len(allowed) == 0 {
		return t.Encode(text), nil
	}
	names := make([]string, 0, len(allowed))
	for _, name := range allowed {
		if _, ok := t.special[name]; !ok {
			return nil, fmt.Errorf("tokenizer: %q is not a special token of this tokenizer", name)
		}
		names = append(names, name)
	}
	// next[k] caches where names[k] next occurs at or after pos (-1: nowhere).
	next := make([]int, len(names))
	for k, name := range names {
		next[k] = strings.Index(text, name)
	}
	dst := make([]int, 0, len(text)/3+1)
	pos := 0
	for {
		best := -1
		for k, name := range names {
			if next[k] >= 0 && next[k] < pos {
				if j := strings.Index(text[pos:], name); j >= 0 {
					next[k] = pos + j
				} else {
					next[k] = -1
				}
			}
			// The leftmost occurrence wins; of two starting at the same byte, the longer.
			if next[k] >= 0 && (best < 0 || next[k] < next[best] || next[k] == next[best] && len(name) > len(names[best])) {
				best = k
			}
		}
		if best < 0 {
			return t.AppendEncode(dst, text[pos:]), nil
		}
		// The text before a special is split on its own, as tiktoken does: a pattern's lookahead
		// sees the special's start as the end of the text.
		dst = t.AppendEncode(dst, text[pos:next[best]])
		dst = append(dst, t.special[names[best]])
		pos = next[best] + len(names[best])
	}
}

// ContainsSpecial returns the first special-token string in text, if any; a caller that wants
// tiktoken's default (reject text that contains a special token) checks it before encoding.
func (t *BPE) ContainsSpecial(text string) (name string, found bool) {
	first := -1
	for _, s := range t.specialNames {
		if i := strings.Index(text, s); i >= 0 && (first < 0 || i < first || i == first && len(s) > len(name)) {
			first, name = i, s
		}
	}
	return name, first >= 0
}

// EncodeBatch encodes each text (specials as ordinary text) on all cores; the result is the same as
// calling Encode on each in turn.
func (t *BPE) EncodeBatch(texts []string) [][]int {
	out := make([][]int, len(texts))
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	if workers <= 1 {
		for i, s := range texts {
			out[i] = t.Encode(s)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(texts) {
					return
				}
				out[i] = t.Encode(texts[i])
			}
		})
	}
	wg.Wait()
	return out
}

// appendPiece appends the BPE encoding of one piece of text.
func (t *BPE) appendPiece(dst []int, piece string) []int {
	if id := t.rank(piece); id != noRank {
		return append(dst, int(id))
	}
	if len(piece) <= 2*chunkSize {
		return t.mergeWhole(dst, piece)
	}
	return t.mergeChunked(dst, piece)
}
