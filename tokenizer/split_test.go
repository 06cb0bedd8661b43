package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The oracle below reads the two patterns literally, alternative by alternative, with the
// backtracking a regex engine would do, over a text decoded into characters. It shares nothing with
// the hand-written splitters but the definition of the classes (Unicode L, N and White_Space).

type unit struct {
	r          rune
	start, end int
	invalid    bool
}

func units(s string) []unit {
	var us []unit
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		us = append(us, unit{r, i, i + n, r == utf8.RuneError && n == 1})
		i += n
	}
	return us
}

func isL(u unit) bool  { return !u.invalid && unicode.In(u.r, unicode.L) }
func isN(u unit) bool  { return !u.invalid && unicode.In(u.r, unicode.N) }
func isS(u unit) bool  { return !u.invalid && unicode.In(u.r, unicode.White_Space) }
func isNL(u unit) bool { return u.r == '\r' || u.r == '\n' }

// is matches one character against a literal, optionally under Unicode simple case folding.
func is(u unit, lit rune, fold bool) bool {
	if u.invalid {
		return false
	}
	if u.r == lit {
		return true
	}
	if fold {
		for f := unicode.SimpleFold(lit); f != lit; f = unicode.SimpleFold(f) {
			if u.r == f {
				return true
			}
		}
	}
	return false
}

// alt returns the number of units the alternative matches at us[i:], or -1.
type alt func(us []unit, i int) int

func literals(fold bool, words ...string) alt {
	return func(us []unit, i int) int {
	next:
		for _, w := range words {
			rs := []rune(w)
			if i+len(rs) > len(us) {
				continue
			}
			for k, r := range rs {
				if !is(us[i+k], r, fold) {
					continue next
				}
			}
			return len(rs)
		}
		return -1
	}
}

// run counts the units at us[i:] that satisfy ok, at most limit (0: no limit).
func run(us []unit, i int, ok func(unit) bool, limit int) int {
	k := 0
	for i+k < len(us) && ok(us[i+k]) && (limit == 0 || k < limit) {
		k++
	}
	return k
}

// optThenPlus is "X?Y+" (and with tail, "X?Y+T*"): the optional X is tried first.
func optThenPlus(x, y func(unit) bool, tail func(unit) bool) alt {
	return func(us []unit, i int) int {
		for _, take := range []int{1, 0} {
			if take == 1 && (i >= len(us) || !x(us[i])) {
				continue
			}
			k := run(us, i+take, y, 0)
			if k == 0 {
				continue
			}
			n := take + k
			if tail != nil {
				n += run(us, i+n, tail, 0)
			}
			return n
		}
		return -1
	}
}

func spaceNotFollowedByNonSpace(us []unit, i int) int {
	for k := run(us, i, isS, 0); k >= 1; k-- {
		if i+k == len(us) || isS(us[i+k]) {
			return k
		}
	}
	return -1
}

func spaces(us []unit, i int) int {
	if k := run(us, i, isS, 0); k > 0 {
		return k
	}
	return -1
}

func other(u unit) bool { return !isS(u) && !isL(u) && !isN(u) }
func space(u unit) bool { return !u.invalid && u.r == ' ' }

var gpt2Alts = []alt{
	literals(false, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"),
	optThenPlus(space, isL, nil),
	optThenPlus(space, isN, nil),
	optThenPlus(space, other, nil),
	spaceNotFollowedByNonSpace,
	spaces,
}

var cl100kAlts = []alt{
	literals(true, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"),
	optThenPlus(func(u unit) bool { return !isNL(u) && !isL(u) && !isN(u) }, isL, nil),
	func(us []unit, i int) int {
		if k := run(us, i, isN, 3); k > 0 {
			return k
		}
		return -1
	},
	optThenPlus(space, other, isNL),
	func(us []unit, i int) int { // \s*[\r\n]+
		for k := run(us, i, isS, 0); k >= 0; k-- {
			if m := run(us, i+k, isNL, 0); m > 0 {
				return k + m
			}
		}
		return -1
	},
	spaceNotFollowedByNonSpace,
	spaces,
}

func oracleSplit(s string, alts []alt) []string {
	us := units(s)
	var pieces []string
	for i := 0; i < len(us); {
		n := -1
		for _, a := range alts {
			if n = a(us, i); n > 0 {
				break
			}
		}
		if n <= 0 {
			n = 1 // the patterns cover every valid character; only invalid bytes can land here
		}
		pieces = append(pieces, s[us[i].start:us[i+n-1].end])
		i += n
	}
	return pieces
}

func fastSplit(s string, k splitKind) []string {
	var pieces []string
	splitter{kind: k}.each(s, func(a, b int) { pieces = append(pieces, s[a:b]) })
	return pieces
}

var splitAlphabet = []string{
	"a", "Z", "é", "ß", "ſ", "s", "t", "re", "ve", "m", "ll", "d", "S", "LL", "Re", "K",
	"1", "23", "٣", "Ⅻ", "½", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u0085", "\u3000",
	"\u2028", "\ufeff", "'", "'", ".", "!", "?!", "😀", "中文", "\xff", "\xe2\x82", "<|endoftext|>",
}

func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(splitAlphabet[rng.IntN(len(splitAlphabet))])
	}
	return b.String()
}

func TestSplitMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		s := randomText(rng, rng.IntN(30))
		require.Equal(t, oracleSplit(s, gpt2Alts), fastSplit(s, splitGPT2), "gpt2 %q", s)
		require.Equal(t, oracleSplit(s, cl100kAlts), fastSplit(s, splitCL100k), "cl100k %q", s)
		require.Equal(t, oracleSplit(s, qwenAlts), fastSplit(s, splitQwen), "qwen %q", s)
	}
}

// Cases where the README of the vocabularies spells out tiktoken's behaviour.
func TestSplitKnownCases(t *testing.T) {
	cases := []struct {
		kind splitKind
		in   string
		want []string
	}{
		{splitGPT2, "Hello world", []string{"Hello", " world"}},
		{splitGPT2, "a   b", []string{"a", "  ", " b"}},
		{splitGPT2, "a  \u0085b", []string{"a", "  ", "\u0085", "b"}}, // U+0085 is whitespace
		{splitGPT2, "don't", []string{"don", "'t"}},
		{splitGPT2, "DON'T", []string{"DON", "'", "T"}},
		{splitCL100k, "DON'T", []string{"DON", "'T"}},
		{splitCL100k, "x'ſ", []string{"x", "'ſ"}},
		{splitCL100k, "12345", []string{"123", "45"}},
		{splitCL100k, "  \ufeff", []string{" ", " \ufeff"}}, // U+FEFF is not whitespace
		{splitCL100k, "a.\n\nb", []string{"a", ".\n\n", "b"}},
		{splitCL100k, "a \n \n  b", []string{"a", " \n \n", " ", " b"}},
		{splitCL100k, "trailing   ", []string{"trailing", "   "}},
		{splitQwen, "x 12345", []string{"x", " ", "1", "2", "3", "4", "5"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, fastSplit(c.in, c.kind), "%q", c.in)
		alts := gpt2Alts
		switch c.kind {
		case splitCL100k:
			alts = cl100kAlts
		case splitQwen:
			alts = qwenAlts
		}
		assert.Equal(t, c.want, oracleSplit(c.in, alts), "oracle %q", c.in)
	}
}

func FuzzSplitOracle(f *testing.F) {
	for _, s := range []string{"Hello world", "a  \u0085b", "x'ſ 12345 \r\n\n  y", "\xff\xe2\x82 'LL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			return // the oracle is quadratic in the length of a whitespace run
		}
		require.Equal(t, oracleSplit(s, gpt2Alts), fastSplit(s, splitGPT2), "gpt2 %q", s)
		require.Equal(t, oracleSplit(s, cl100kAlts), fastSplit(s, splitCL100k), "cl100k %q", s)
		require.Equal(t, oracleSplit(s, qwenAlts), fastSplit(s, splitQwen), "qwen %q", s)
	})
}

func TestRegexpSplitterKeepsEveryByte(t *testing.T) {
	sp, err := newSplitter(`\w+`)
	require.NoError(t, err)
	s := "  hello, world!! \xff"
	var got strings.Builder
	sp.each(s, func(a, b int) { got.WriteString(s[a:b]) })
	assert.Equal(t, s, got.String())
	_, err = newSplitter(`\s+(?!\S)`)
	assert.ErrorContains(t, err, "lookaround")
	_, err = newSplitter(`(`)
	assert.Error(t, err)
}

// qwenAlts is cl100kAlts with \p{N} in place of \p{N}{1,3}.
var qwenAlts = func() []alt {
	alts := append([]alt(nil), cl100kAlts...)
	alts[2] = func(us []unit, i int) int {
		if i < len(us) && isN(us[i]) {
			return 1
		}
		return -1
	}
	return alts
}()

func TestKnownSplitter(t *testing.T) {
	sp, ok := KnownSplitter(QwenPattern)
	require.True(t, ok)
	s := "It's 2024!  ok"
	var pieces []string
	sp.Each(s, func(a, b int) { pieces = append(pieces, s[a:b]) })
	assert.Equal(t, []string{"It", "'s", " ", "2", "0", "2", "4", "!", " ", " ok"}, pieces)
	_, ok = KnownSplitter(`\w+`)
	assert.False(t, ok)
}
