package tokenizer

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pre-tokenization patterns. A BPE runs its merges on each piece that its pattern cuts the text into,
// never across pieces.
const (
	// GPT2Pattern is the split pattern of GPT-2 (r50k_base, p50k_base).
	GPT2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// CL100kPattern is the split pattern of cl100k_base (GPT-3.5/GPT-4), and the default for Train.
	CL100kPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// QwenPattern is the split pattern of Qwen2 and Qwen3's tokenizer.json: cl100k's, with each digit
	// a piece of its own.
	QwenPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// Other spellings of the same two patterns, as found in tiktoken releases and minbpe; they select the
// same hand-written splitters.
var patternAliases = map[string]splitKind{
	GPT2Pattern: splitGPT2,
	`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`: splitGPT2,
	CL100kPattern: splitCL100k,
	QwenPattern:   splitQwen,
	`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`: splitCL100k,
	`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`:         splitCL100k,
}

type splitKind uint8

const (
	splitRegexp splitKind = iota
	splitGPT2
	splitCL100k
	splitQwen
)

// splitter cuts text into pieces. Every byte of the text belongs to exactly one piece, in order, so
// that concatenating the pieces gives the text back (a pattern that skips text would lose it).
type splitter struct {
	kind splitKind
	re   *regexp.Regexp
}

// newSplitter recognises the GPT-2 and cl100k patterns (whose \s+(?!\S) Go's regexp cannot express)
// and compiles any other pattern with Go's regexp. Note that Go's \s is ASCII whitespace only.
func newSplitter(pattern string) (splitter, error) {
	if pattern == "" {
		// Go's regexp would accept it and match the empty string everywhere, cutting the text into
		// single characters: a BPE that never merges across them, with no sign that anything is wrong.
		return splitter{}, errors.New("tokenizer: empty split pattern (use GPT2Pattern, CL100kPattern or a Go regexp)")
	}
	if k, ok := patternAliases[pattern]; ok {
		return splitter{kind: k}, nil
	}
	if strings.Contains(pattern, "(?!") || strings.Contains(pattern, "(?=") || strings.Contains(pattern, "(?<") {
		return splitter{}, fmt.Errorf("tokenizer: pattern %q uses lookaround, which Go's regexp lacks; only GPT2Pattern and CL100kPattern have hand-written splitters", pattern)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return splitter{}, fmt.Errorf("tokenizer: bad split pattern: %w", err)
	}
	return splitter{kind: splitRegexp, re: re}, nil
}

// each calls fn with the start and end of each piece of s, in order.
func (sp splitter) each(s string, fn func(start, end int)) {
	switch sp.kind {
	case splitGPT2:
		for i := 0; i < len(s); {
			j := nextGPT2(s, i)
			fn(i, j)
			i = j
		}
	case splitCL100k:
		for i := 0; i < len(s); {
			j := nextCL100k(s, i, 3)
			fn(i, j)
			i = j
		}
	case splitQwen:
		for i := 0; i < len(s); {
			j := nextCL100k(s, i, 1)
			fn(i, j)
			i = j
		}
	default:
		prev := 0
		for _, m := range sp.re.FindAllStringIndex(s, -1) {
			if m[0] > prev {
				fn(prev, m[0]) // text the pattern skipped: kept as its own piece so nothing is lost
			}
			if m[1] > m[0] {
				fn(m[0], m[1])
			}
			prev = m[1]
		}
		if prev < len(s) {
			fn(prev, len(s))
		}
	}
}

// Character classes of the patterns: \p{L}, \p{N}, \s (Unicode White_Space, as in the Rust regex
// crate that tiktoken uses), and everything else. A byte that is not valid UTF-8 counts as "other".
type charClass uint8

const (
	clsOther charClass = iota
	clsLetter
	clsNumber
	clsSpace
)

var asciiClass [utf8.RuneSelf]charClass

func init() {
	for b := range utf8.RuneSelf {
		r := rune(b)
		switch {
		case unicode.IsLetter(r):
			asciiClass[b] = clsLetter
		case unicode.IsNumber(r):
			asciiClass[b] = clsNumber
		case unicode.IsSpace(r):
			asciiClass[b] = clsSpace
		}
	}
}

// classAt returns the class, rune and byte size of the character at s[i] (i < len(s)).
func classAt(s string, i int) (charClass, rune, int) {
	b := s[i]
	if b < utf8.RuneSelf {
		return asciiClass[b], rune(b), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && n == 1:
		return clsOther, r, 1
	case unicode.IsLetter(r):
		return clsLetter, r, n
	case unicode.IsNumber(r):
		return clsNumber, r, n
	case unicode.IsSpace(r): // Go's IsSpace is White_Space: includes U+0085, excludes U+FEFF
		return clsSpace, r, n
	}
	return clsOther, r, n
}

// scanRun returns the end of the run of class c that starts at i.
func scanRun(s string, i int, c charClass) int {
	for i < len(s) {
		b := s[i]
		if b < utf8.RuneSelf {
			if asciiClass[b] != c {
				return i
			}
			i++
			continue
		}
		c2, _, n := classAt(s, i)
		if c2 != c {
			return i
		}
		i += n
	}
	return i
}

// lastRuneStart returns the start of the last character of s[i:end] (end > i).
func lastRuneStart(s string, i, end int) int {
	_, n := utf8.DecodeLastRuneInString(s[i:end])
	return end - n
}

// spaceRunEnd implements \s+(?!\S) followed by the fallback \s+ for a whitespace run starting at i:
// the run is taken whole at the end of the text; before a non-space it gives up its last character
// (which then starts the next piece) unless that would leave it empty.
func spaceRunEnd(s string, i, end int) int {
	if end == len(s) {
		return end
	}
	if last := lastRuneStart(s, i, end); last > i {
		return last
	}
	return end
}

// contraction returns the length of 's 't 're 've 'm 'll 'd after the apostrophe at the start of s
// (s begins after the apostrophe), or 0. With fold, letters match case-insensitively under Unicode
// simple case folding, so 's also matches 'S and 'ſ (U+017F).
func contraction(s string, fold bool) int {
	if len(s) == 0 {
		return 0
	}
	lower := func(b byte) byte {
		if fold && 'A' <= b && b <= 'Z' {
			return b + 'a' - 'A'
		}
		return b
	}
	switch lower(s[0]) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(s) > 1 && lower(s[1]) == 'e' {
			return 2
		}
	case 'l':
		if len(s) > 1 && lower(s[1]) == 'l' {
			return 2
		}
	case 0xC5: // U+017F LATIN SMALL LETTER LONG S folds to s
		if fold && len(s) > 1 && s[1] == 0xBF {
			return 2
		}
	}
	return 0
}

// nextGPT2 returns the end of the GPT2Pattern piece that starts at i, trying the pattern's
// alternatives in order as the regex engine does.
func nextGPT2(s string, i int) int {
	c, r, n := classAt(s, i)
	if r == '\'' {
		if k := contraction(s[i+1:], false); k > 0 {
			return i + 1 + k
		}
	}
	// " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+"
	if r == ' ' && i+1 < len(s) {
		if c2, _, n2 := classAt(s, i+1); c2 != clsSpace {
			return scanRun(s, i+1+n2, c2)
		}
	}
	if c != clsSpace {
		return scanRun(s, i+n, c)
	}
	return spaceRunEnd(s, i, scanRun(s, i+n, clsSpace))
}

// nextCL100k returns the end of the CL100kPattern piece that starts at i, whose \p{N}{1,3} takes at
// most digits numbers (3 for cl100k, 1 for QwenPattern).
func nextCL100k(s string, i, digits int) int {
	c, r, n := classAt(s, i)
	if r == '\'' {
		if k := contraction(s[i+1:], true); k > 0 {
			return i + 1 + k
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c == clsLetter {
		return scanRun(s, i+n, clsLetter)
	}
	if c != clsNumber && r != '\r' && r != '\n' && i+n < len(s) {
		if c2, _, n2 := classAt(s, i+n); c2 == clsLetter {
			return scanRun(s, i+n+n2, clsLetter)
		}
	}
	// \p{N}{1,3}
	if c == clsNumber {
		j := i + n
		for k := 1; k < digits && j < len(s); k++ {
			c2, _, n2 := classAt(s, j)
			if c2 != clsNumber {
				break
			}
			j += n2
		}
		return j
	}
	// " ?[^\s\p{L}\p{N}]+[\r\n]*"
	start := -1
	if c == clsOther {
		start = i + n
	} else if r == ' ' && i+1 < len(s) {
		if c2, _, n2 := classAt(s, i+1); c2 == clsOther {
			start = i + 1 + n2
		}
	}
	if start >= 0 {
		j := scanRun(s, start, clsOther)
		for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j
	}
	// Whitespace. "\s*[\r\n]+" ends just after the run's last \r or \n (ASCII bytes never occur inside
	// a multi-byte UTF-8 sequence, so scanning bytes is safe).
	end := scanRun(s, i+n, clsSpace)
	for k := end - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1
		}
	}
	return spaceRunEnd(s, i, end)
}

// Splitter cuts text into the pieces of one of the patterns that have a hand-written matcher
// (GPT2Pattern, CL100kPattern, QwenPattern and their other spellings), exactly as the regex engines
// of tiktoken and Hugging Face's tokenizers do. Go's regexp cannot express their look-ahead, and its
// \s is ASCII only, so a loader that must reproduce another library exactly uses these and nothing
// else. Every byte of the text is in exactly one piece.
type Splitter struct{ sp splitter }

// KnownSplitter returns the hand-written Splitter for pattern, or false if pattern is not one of
// the patterns it knows.
func KnownSplitter(pattern string) (Splitter, bool) {
	k, ok := patternAliases[pattern]
	return Splitter{splitter{kind: k}}, ok
}

// Each calls fn with the start and end of each piece of s, in order.
func (s Splitter) Each(text string, fn func(start, end int)) { s.sp.each(text, fn) }
