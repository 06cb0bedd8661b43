package hf

import (
	"math"
	"unicode/utf8"
)

// bpe is the model of a tokenizer.json whose model.type is "BPE": a vocabulary and an ordered list
// of merges. A piece of text starts as one symbol per character (per byte for byte-level
// vocabularies), and the adjacent pair whose merge comes first in the list is merged, the leftmost
// among equals, until no pair has a merge: Hugging Face's Word::merge_all.
type bpe struct {
	*bpeTables

	unk          int32 // id of unk_token, -1 for none
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool // a piece that is itself a token is taken whole (Llama 3)
}

// bpeTables are the model's lookup tables, built once from the vocabulary and the merges.
type bpeTables struct {
	vocab  map[string]int32 // token text (raw bytes where byteLevel) -> id
	merges pairTable

	byteLevel bool       // pieces are raw bytes, each byte one symbol (a ByteLevel pre-tokenizer)
	byteID    [256]int32 // byteLevel: the id of each byte's character, -1 where the vocabulary lacks it
	asciiID   [128]int32 // otherwise: the id of each ASCII character, -1 where missing
	byteToken [256]int32 // the ids of "<0x00>".."<0xFF>", -1 where missing

	nMerges  int      // number of ranks
	symCount []int32  // id -> how many initial symbols its token is merged from (0 if unknown)
	long     longPool // working memory of mergeLong
}

// symbol is a part of a piece during merging.
type symbol struct {
	id   int32
	rank int32 // rank of the merge of this symbol with the next, noMerge if none
	next int32 // the id that merge makes
}

const noMerge = math.MaxInt32

// smallWord is the most symbols merged by the quadratic scan; longer words go to mergeLong, whose
// time grows linearly (a megabyte of one letter is a single piece).
const smallWord = 48

// appendPiece appends the ids of one piece.
func (m *bpe) appendPiece(dst []int, piece string) []int {
	if piece == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[piece]; ok {
			return append(dst, int(id))
		}
	}
	var buf [smallWord]symbol
	syms := buf[:0]
	if len(piece) > smallWord {
		syms = make([]symbol, 0, len(piece)) // at most one symbol a byte
	}
	syms = m.symbols(syms, piece)
	switch {
	case len(syms) <= smallWord:
		return m.mergeScan(dst, syms)
	case len(syms) <= 2*chunkSyms:
		return m.mergeLong(dst, syms)
	}
	return m.mergeChunked(dst, syms)
}

// symbols returns the initial symbols of piece: Hugging Face's merge_word, with its handling of
// characters outside the vocabulary (byte fallback to <0xNN> tokens, else unk, fused or not, else
// dropped).
func (m *bpe) symbols(syms []symbol, piece string) []symbol {
	unk, unkPending := int32(0), false
	add := func(id int32) { syms = append(syms, symbol{id: id}) }
	for i := 0; i < len(piece); {
		var id int32 = -1
		n := 1
		if m.byteLevel {
			id = m.byteID[piece[i]]
		} else if c := piece[i]; c < utf8.RuneSelf {
			id = m.asciiID[c]
		} else {
			_, n = utf8.DecodeRuneInString(piece[i:])
			if v, ok := m.vocab[piece[i:i+n]]; ok {
				id = v
			}
		}
		ch := piece[i : i+n]
		i += n
		if id >= 0 {
			if unkPending {
				add(unk)
				unkPending = false
			}
			add(id)
			continue
		}
		if m.byteFallback && m.hasByteTokens(ch) {
			// As in Hugging Face, a pending unk is not flushed first.
			for k := 0; k < len(ch); k++ {
				add(m.byteToken[ch[k]])
			}
			continue
		}
		if m.unk >= 0 {
			if unkPending && !m.fuseUnk {
				add(unk)
			}
			unk, unkPending = m.unk, true
		}
	}
	if unkPending {
		add(unk)
	}
	return syms
}

func (m *bpe) hasByteTokens(ch string) bool {
	for k := 0; k < len(ch); k++ {
		if m.byteToken[ch[k]] < 0 {
			return false
		}
	}
	return true
}

// rate sets the merge of syms[i] with syms[i+1].
func (m *bpe) rate(syms []symbol, i int) {
	syms[i].rank = noMerge
	if i+1 < len(syms) {
		if v, ok := m.merges.get(syms[i].id, syms[i+1].id); ok {
			syms[i].rank, syms[i].next = v.rank, v.id
		}
	}
}

// mergeScan merges a short word: each round finds the lowest-ranked pair, the leftmost on ties.
func (m *bpe) mergeScan(dst []int, syms []symbol) []int {
	for i := range syms {
		m.rate(syms, i)
	}
	for {
		best, bi := int32(noMerge), -1
		for i := range syms {
			if syms[i].rank < best {
				best, bi = syms[i].rank, i
			}
		}
		if bi < 0 {
			break
		}
		syms[bi].id = syms[bi].next
		syms = append(syms[:bi+1], syms[bi+2:]...)
		m.rate(syms, bi)
		if bi > 0 {
			m.rate(syms, bi-1)
		}
	}
	for _, s := range syms {
		dst = append(dst, int(s.id))
	}
	return dst
}
