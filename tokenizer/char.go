package tokenizer

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// Char is a character-level tokenizer: its vocabulary is a sorted list of distinct characters
// (Unicode code points) and a character's id is its index in that list.
type Char struct {
	chars []rune
	index map[rune]int
}

// NewChar returns the tokenizer whose vocabulary is the set of characters of text, sorted by code
// point. Text is read as UTF-8; a byte that is not valid UTF-8 counts as U+FFFD.
func NewChar(text string) *Char {
	seen := make(map[rune]bool)
	for _, r := range text {
		seen[r] = true
	}
	chars := make([]rune, 0, len(seen))
	for r := range seen {
		chars = append(chars, r)
	}
	slices.Sort(chars)
	return newChar(chars)
}

// CharFromVocab rebuilds a Char from the string that Vocab returned, e.g. one saved in a checkpoint.
// The characters must be valid UTF-8, distinct and in increasing order.
func CharFromVocab(vocab string) (*Char, error) {
	chars := make([]rune, 0, len(vocab))
	for i, r := range vocab {
		if r == utf8.RuneError && invalidAt(vocab, i) {
			return nil, fmt.Errorf("tokenizer: char vocabulary has invalid UTF-8 at byte %d", i)
		}
		if len(chars) > 0 && r <= chars[len(chars)-1] {
			return nil, fmt.Errorf("tokenizer: char vocabulary is not sorted and distinct at byte %d (%q after %q)", i, r, chars[len(chars)-1])
		}
		chars = append(chars, r)
	}
	return newChar(chars), nil
}

func newChar(chars []rune) *Char {
	c := &Char{chars: chars, index: make(map[rune]int, len(chars))}
	for i, r := range chars {
		c.index[r] = i
	}
	return c
}

// Vocab returns the vocabulary as one string, the characters in id order; CharFromVocab inverts it.
func (c *Char) Vocab() string { return string(c.chars) }

// VocabSize returns the number of characters in the vocabulary.
func (c *Char) VocabSize() int { return len(c.chars) }

// Encode returns the ids of the characters of text, skipping characters outside the vocabulary and
// bytes that are not valid UTF-8 (use EncodeStrict to be told about them).
func (c *Char) Encode(text string) []int {
	ids := make([]int, 0, len(text))
	for i, r := range text {
		if r == utf8.RuneError && invalidAt(text, i) {
			continue
		}
		if id, ok := c.index[r]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// EncodeStrict is Encode, but a character outside the vocabulary is an error.
func (c *Char) EncodeStrict(text string) ([]int, error) {
	ids := make([]int, 0, len(text))
	for i, r := range text {
		if r == utf8.RuneError && invalidAt(text, i) {
			return nil, fmt.Errorf("tokenizer: invalid UTF-8 at byte %d", i)
		}
		id, ok := c.index[r]
		if !ok {
			return nil, fmt.Errorf("tokenizer: character %q at byte %d is not in the vocabulary", r, i)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Decode returns the text of ids.
func (c *Char) Decode(ids []int) (string, error) {
	out := make([]rune, len(ids))
	for i, id := range ids {
		if id < 0 || id >= len(c.chars) {
			return "", unknownToken(id, len(c.chars))
		}
		out[i] = c.chars[id]
	}
	return string(out), nil
}

// TokenBytes returns the UTF-8 bytes of one character.
func (c *Char) TokenBytes(id int) ([]byte, error) {
	if id < 0 || id >= len(c.chars) {
		return nil, unknownToken(id, len(c.chars))
	}
	return utf8.AppendRune(nil, c.chars[id]), nil
}

// invalidAt reports whether s[i:] starts with a byte that is not valid UTF-8 (rather than a genuine
// U+FFFD).
func invalidAt(s string, i int) bool {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n == 1
}
