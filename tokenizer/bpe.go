package tokenizer

import (
	"fmt"
	"maps"
	"slices"
)

// BPE is a byte-level byte-pair-encoding tokenizer: a pattern that cuts text into pieces, a table of
// mergeable tokens (byte strings) whose ranks are their ids and their merge priorities, and special
// tokens that are never produced by merging. It is immutable and safe for concurrent use.
type BPE struct {
	pattern string
	split   splitter

	ranks  map[string]int32 // mergeable token bytes -> rank (= id)
	byteID [256]int32       // rank of each single byte
	maxLen int              // length of the longest mergeable token
	table  rankTable        // the same ranks, for fast lookup of short strings

	tokens []string // id -> bytes ("" where the id is unused)
	used   []bool   // id -> whether the id is a token

	special      map[string]int
	specialNames []string // sorted
	nMergeable   int

	merges []Merge // the merge list, where the tokenizer came from one (Train, ReadGPT2)

	long longMerges // working memory for merging long pieces, reused across calls
}

// Merge is one rule of a merge list: tokens Left and Right, adjacent, become token Result.
type Merge struct{ Left, Right, Result int }

// New builds a BPE from its mergeable ranks (token bytes -> rank, which is also the id), its special
// tokens (name -> id) and its split pattern (GPT2Pattern, CL100kPattern or a Go regexp; empty is an
// error). Every single byte must have a rank, so that any text can be encoded; ids must be distinct
// and reasonably dense.
func New(ranks map[string]int, special map[string]int, pattern string) (*BPE, error) {
	sp, err := newSplitter(pattern)
	if err != nil {
		return nil, err
	}
	n := len(ranks) + len(special)
	limit := 2*n + 1024 // ids may leave gaps (cl100k does), but not huge ones that would waste memory
	maxID := -1
	check := func(what, tok string, id int) error {
		if tok == "" {
			return fmt.Errorf("tokenizer: empty %s token", what)
		}
		if id < 0 || id >= limit {
			return fmt.Errorf("tokenizer: %s token %q has id %d outside [0, %d)", what, tok, id, limit)
		}
		maxID = max(maxID, id)
		return nil
	}
	for tok, id := range ranks {
		if err := check("mergeable", tok, id); err != nil {
			return nil, err
		}
	}
	for tok, id := range special {
		if err := check("special", tok, id); err != nil {
			return nil, err
		}
	}
	t := &BPE{
		pattern:    pattern,
		split:      sp,
		ranks:      make(map[string]int32, len(ranks)),
		tokens:     make([]string, maxID+1),
		used:       make([]bool, maxID+1),
		special:    maps.Clone(special),
		nMergeable: len(ranks),
	}
	if t.special == nil {
		t.special = map[string]int{}
	}
	put := func(tok string, id int) error {
		if t.used[id] {
			return fmt.Errorf("tokenizer: id %d given to both %q and %q", id, t.tokens[id], tok)
		}
		t.used[id], t.tokens[id] = true, tok
		return nil
	}
	for tok, id := range ranks {
		if err := put(tok, id); err != nil {
			return nil, err
		}
		t.ranks[tok] = int32(id)
		t.maxLen = max(t.maxLen, len(tok))
	}
	for b := range 256 {
		id, ok := t.ranks[string([]byte{byte(b)})]
		if !ok {
			return nil, fmt.Errorf("tokenizer: byte 0x%02x has no token, so some texts could not be encoded", b)
		}
		t.byteID[b] = id
	}
	for tok, id := range special {
		if err := put(tok, id); err != nil {
			return nil, err
		}
	}
	t.specialNames = slices.Sorted(maps.Keys(t.special))
	t.table = newRankTable(t.ranks)
	return t, nil
}

// Pattern returns the split pattern.
func (t *BPE) Pattern() string { return t.pattern }

// VocabSize returns one more than the largest token id (mergeable or special). Some ids below it may
// be unused (cl100k_base leaves gaps before its special tokens).
func (t *BPE) VocabSize() int { return len(t.tokens) }

// NumMergeable returns the number of mergeable (non-special) tokens.
func (t *BPE) NumMergeable() int { return t.nMergeable }

// Special returns the special tokens, name -> id (a copy).
func (t *BPE) Special() map[string]int { return maps.Clone(t.special) }

// SpecialNames returns the names of the special tokens, sorted.
func (t *BPE) SpecialNames() []string { return slices.Clone(t.specialNames) }

// SpecialID returns the id of the special token name.
func (t *BPE) SpecialID(name string) (int, bool) {
	id, ok := t.special[name]
	return id, ok
}

// IsSpecial reports whether id is a special token.
func (t *BPE) IsSpecial(id int) bool {
	if id < 0 || id >= len(t.tokens) || !t.used[id] {
		return false
	}
	sid, ok := t.special[t.tokens[id]]
	return ok && sid == id
}

// Ranks returns the mergeable tokens, bytes -> rank (a copy).
func (t *BPE) Ranks() map[string]int {
	m := make(map[string]int, len(t.ranks))
	for k, v := range t.ranks {
		m[k] = int(v)
	}
	return m
}

// Merges returns the merge list the tokenizer was built from, in order, when it came from one
// (Train, ReadGPT2); nil for a tokenizer read from a rank file.
func (t *BPE) Merges() []Merge { return slices.Clone(t.merges) }

// TokenBytes returns the bytes of one token (for a special token, its name). They may be part of a
// UTF-8 sequence.
func (t *BPE) TokenBytes(id int) ([]byte, error) {
	if id < 0 || id >= len(t.tokens) || !t.used[id] {
		return nil, unknownToken(id, len(t.tokens))
	}
	return []byte(t.tokens[id]), nil
}

// DecodeBytes appends the bytes of the tokens ids to dst.
func (t *BPE) DecodeBytes(dst []byte, ids []int) ([]byte, error) {
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || !t.used[id] {
			return dst, unknownToken(id, len(t.tokens))
		}
		dst = append(dst, t.tokens[id]...)
	}
	return dst, nil
}

// Decode returns the text of the tokens ids: their bytes concatenated, which may not be valid UTF-8
// if ids is a slice of a longer encoding (the bytes are kept exactly; see StreamDecoder).
func (t *BPE) Decode(ids []int) (string, error) {
	n := 0
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || !t.used[id] {
			return "", unknownToken(id, len(t.tokens))
		}
		n += len(t.tokens[id])
	}
	buf := make([]byte, 0, n)
	buf, _ = t.DecodeBytes(buf, ids)
	return string(buf), nil
}
