package hf

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is one entry of added_tokens: a string recognised in the text before the model runs.
type addedToken struct {
	id                                     int
	content                                string
	display                                string // what decoding gives
	singleWord, lstrip, rstrip, normalized bool
	special                                bool
}

// addedMatcher finds added tokens in text, leftmost first and the longest of those starting at the
// same byte, as Hugging Face's Aho-Corasick automaton (MatchKind::LeftmostLongest) does, through a
// byte trie entered only at bytes that start some token.
type addedMatcher struct {
	starts [256]bool
	nodes  []trieNode
	tokens []addedToken
}

type trieNode struct {
	next map[byte]int32
	tok  int32 // index into tokens of the token ending here, -1 for none
}

func newAddedMatcher(tokens []addedToken, pattern func(addedToken) string) *addedMatcher {
	m := &addedMatcher{nodes: []trieNode{{tok: -1}}}
	for _, tk := range tokens {
		p := pattern(tk)
		if p == "" {
			continue
		}
		m.starts[p[0]] = true
		n := int32(0)
		for i := 0; i < len(p); i++ {
			nx, ok := m.nodes[n].next[p[i]]
			if !ok {
				if m.nodes[n].next == nil {
					m.nodes[n].next = map[byte]int32{}
				}
				nx = int32(len(m.nodes))
				m.nodes[n].next[p[i]] = nx
				m.nodes = append(m.nodes, trieNode{tok: -1})
			}
			n = nx
		}
		if m.nodes[n].tok < 0 {
			m.nodes[n].tok = int32(len(m.tokens))
			m.tokens = append(m.tokens, tk)
		}
	}
	return m
}

func (m *addedMatcher) empty() bool { return len(m.tokens) == 0 }

// find returns the leftmost-longest match at or after from: its token index, start and end.
func (m *addedMatcher) find(s string, from int) (int, int, int, bool) {
	for i := from; i < len(s); i++ {
		if !m.starts[s[i]] {
			continue
		}
		best, end := int32(-1), 0
		n := int32(0)
		for j := i; j < len(s); j++ {
			nx, ok := m.nodes[n].next[s[j]]
			if !ok {
				break
			}
			n = nx
			if t := m.nodes[n].tok; t >= 0 {
				best, end = t, j+1
			}
		}
		if best >= 0 {
			return int(best), i, end, true
		}
	}
	return 0, 0, 0, false
}

// split calls fn with the parts of s in order: text (id -1) and added tokens (their id), honouring
// single_word, lstrip and rstrip as Hugging Face's AddedVocabulary.find_matches does.
func (m *addedMatcher) split(s string, fn func(part string, id int, start int)) {
	if m.empty() {
		fn(s, -1, 0)
		return
	}
	startOffset := 0
	for pos := 0; pos < len(s); {
		k, start, stop, ok := m.find(s, pos)
		if !ok {
			break
		}
		pos = stop
		tk := m.tokens[k]
		if start < startOffset {
			continue // inside the whitespace that an rstrip token before it took
		}
		if tk.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tk.lstrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), startOffset)
		}
		if tk.rstrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
			pos = stop
		}
		if startOffset < start {
			fn(s[startOffset:start], -1, startOffset)
		}
		fn(s[start:stop], tk.id, start)
		startOffset = stop
	}
	if startOffset < len(s) {
		fn(s[startOffset:], -1, startOffset)
	}
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isWordChar(r)
}
