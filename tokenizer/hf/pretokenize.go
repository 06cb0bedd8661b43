package hf

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goformer/goformer/tokenizer"
)

// preTokenizer cuts a normalized segment into the pieces that the model encodes one by one; first
// says the segment starts at the beginning of the text (Metaspace's prepend_scheme "first" needs it).
type preTokenizer func(seg string, first bool, emit func(piece string, first bool))

// buildPreTokenizer returns the pre-tokenizer of c and whether its pieces are raw bytes that the model
// reads in GPT-2's byte-level alphabet (c is or ends with ByteLevel).
func buildPreTokenizer(c *component) (preTokenizer, bool, error) {
	switch c.Type {
	case "Sequence":
		var steps []preTokenizer
		byteLevel := false
		for _, raw := range c.Pretokenizers {
			sub, err := parseComponent(raw, "pre_tokenizer")
			if err != nil {
				return nil, false, err
			}
			if byteLevel {
				return nil, false, fmt.Errorf("hf: pre_tokenizer %q after ByteLevel is not supported", sub.Type)
			}
			p, bl, err := buildPreTokenizer(sub)
			if err != nil {
				return nil, false, err
			}
			steps = append(steps, p)
			byteLevel = bl
		}
		return chain(steps), byteLevel, nil
	case "Split":
		p, err := buildSplit(c)
		return p, false, err
	case "ByteLevel":
		return byteLevelPre(c.addPrefixSpace(), c.useRegex()), true, nil
	case "Metaspace":
		p, err := metaspacePre(c)
		return p, false, err
	case "Digits":
		if c.IndividualDigits {
			return charSplit(unicode.IsNumber, "Isolated"), false, nil
		}
		return charSplit(unicode.IsNumber, "Contiguous"), false, nil
	case "Whitespace":
		return whitespacePre, false, nil
	case "WhitespaceSplit":
		return charSplit(unicode.IsSpace, "Removed"), false, nil
	}
	return nil, false, unsupported("pre_tokenizer", c.Type)
}

func chain(steps []preTokenizer) preTokenizer {
	switch len(steps) {
	case 0:
		return func(seg string, first bool, emit func(string, bool)) { emit(seg, first) }
	case 1:
		return steps[0]
	}
	head, rest := steps[0], chain(steps[1:])
	return func(seg string, first bool, emit func(string, bool)) {
		head(seg, first, func(p string, f bool) { rest(p, f, emit) })
	}
}

// span is a part of a segment that a pattern matched (or the text between two matches).
type span struct {
	start, end int
	match      bool
}

// applyBehavior turns the matches and the text between them into pieces, as Hugging Face's
// SplitDelimiterBehavior says, and emits the non-empty ones.
func applyBehavior(seg string, first bool, spans []span, behavior string, emit func(string, bool)) {
	out := func(a, b int) {
		if b > a {
			emit(seg[a:b], first && a == 0)
		}
	}
	switch behavior {
	case "Removed":
		for _, s := range spans {
			if !s.match {
				out(s.start, s.end)
			}
		}
	case "Isolated":
		for _, s := range spans {
			out(s.start, s.end)
		}
	case "MergedWithPrevious", "Contiguous":
		// A match joins the piece before it (Contiguous: any run of matches, or of non-matches, is
		// one piece).
		var acc []span
		prev := false
		for _, s := range spans {
			join := s.match && !prev
			if behavior == "Contiguous" {
				join = s.match == prev
			}
			if join && len(acc) > 0 {
				acc[len(acc)-1].end = s.end
			} else {
				acc = append(acc, s)
			}
			prev = s.match
		}
		for _, s := range acc {
			out(s.start, s.end)
		}
	case "MergedWithNext":
		var acc []span
		prev := false
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prev && len(acc) > 0 {
				acc[len(acc)-1].start = s.start
			} else {
				acc = append(acc, s)
			}
			prev = s.match
		}
		for i := len(acc) - 1; i >= 0; i-- {
			out(acc[i].start, acc[i].end)
		}
	}
}

var behaviors = map[string]bool{"Removed": true, "Isolated": true, "MergedWithPrevious": true, "MergedWithNext": true, "Contiguous": true}

// buildSplit is the Split pre-tokenizer: a string or one of the regexes that have hand-written
// matchers, with a behaviour for the matches.
func buildSplit(c *component) (preTokenizer, error) {
	if !behaviors[c.Behavior] {
		return nil, fmt.Errorf("hf: Split behavior %q is not supported", c.Behavior)
	}
	if c.Pattern == nil {
		return nil, fmt.Errorf("hf: Split without a pattern")
	}
	behavior, invert := c.Behavior, c.Invert
	if c.Pattern.Regex != nil {
		sp, ok := tokenizer.KnownSplitter(*c.Pattern.Regex)
		if !ok {
			return nil, fmt.Errorf("hf: Split regex %q is not supported (known: the GPT-2, cl100k/Llama 3 and Qwen patterns)", *c.Pattern.Regex)
		}
		if behavior == "Isolated" && !invert {
			// The hand-written patterns match every character, so each match is a piece.
			return func(seg string, first bool, emit func(string, bool)) {
				sp.Each(seg, func(a, b int) { emit(seg[a:b], first && a == 0) })
			}, nil
		}
		return func(seg string, first bool, emit func(string, bool)) {
			var spans []span
			sp.Each(seg, func(a, b int) { spans = append(spans, span{a, b, !invert}) })
			applyBehavior(seg, first, spans, behavior, emit)
		}, nil
	}
	if c.Pattern.String == nil {
		return nil, fmt.Errorf("hf: Split pattern without String or Regex")
	}
	pat := *c.Pattern.String
	if pat == "" {
		return nil, fmt.Errorf("hf: Split with an empty pattern")
	}
	return func(seg string, first bool, emit func(string, bool)) {
		var spans []span
		prev := 0
		for i := 0; ; {
			j := strings.Index(seg[i:], pat)
			if j < 0 {
				break
			}
			a := i + j
			if a > prev {
				spans = append(spans, span{prev, a, invert})
			}
			spans = append(spans, span{a, a + len(pat), !invert})
			prev, i = a+len(pat), a+len(pat)
		}
		if prev < len(seg) {
			spans = append(spans, span{prev, len(seg), invert})
		}
		applyBehavior(seg, first, spans, behavior, emit)
	}, nil
}

// charSplit splits where the characters satisfy is, each such character being a match.
func charSplit(is func(rune) bool, behavior string) preTokenizer {
	return func(seg string, first bool, emit func(string, bool)) {
		var spans []span
		prev := 0
		for i, r := range seg {
			if is(r) {
				if i > prev {
					spans = append(spans, span{prev, i, false})
				}
				n := utf8.RuneLen(r)
				if n < 0 {
					n = 1
				}
				spans = append(spans, span{i, i + n, true})
				prev = i + n
			}
		}
		if prev < len(seg) {
			spans = append(spans, span{prev, len(seg), false})
		}
		applyBehavior(seg, first, spans, behavior, emit)
	}
}

// byteLevelPre is the ByteLevel pre-tokenizer: optionally a space before the segment, optionally
// GPT-2's split; the pieces stay raw bytes, which the model reads in the byte-level alphabet.
func byteLevelPre(addPrefixSpace, useRegex bool) preTokenizer {
	gpt2, _ := tokenizer.KnownSplitter(tokenizer.GPT2Pattern)
	return func(seg string, first bool, emit func(string, bool)) {
		if addPrefixSpace && !strings.HasPrefix(seg, " ") {
			seg = " " + seg
		}
		if !useRegex {
			emit(seg, first)
			return
		}
		gpt2.Each(seg, func(a, b int) { emit(seg[a:b], first && a == 0) })
	}
}

// metaspacePre is SentencePiece's space handling: spaces become the replacement character (▁), one
// is put before the segment (always, or only at the start of the text), and the segment is split
// before each ▁ if split is set.
func metaspacePre(c *component) (preTokenizer, error) {
	repl := c.Replacement
	if utf8.RuneCountInString(repl) != 1 {
		return nil, fmt.Errorf("hf: Metaspace replacement %q is not one character", repl)
	}
	scheme := c.PrependScheme
	if scheme == "" {
		scheme = "never"
		if c.AddPrefixSpace == nil || *c.AddPrefixSpace {
			scheme = "always"
		}
	}
	if scheme != "always" && scheme != "first" && scheme != "never" {
		return nil, fmt.Errorf("hf: Metaspace prepend_scheme %q is not supported", scheme)
	}
	split := c.Split == nil || *c.Split
	return func(seg string, first bool, emit func(string, bool)) {
		seg = strings.ReplaceAll(seg, " ", repl)
		if !strings.HasPrefix(seg, repl) && (scheme == "always" || scheme == "first" && first) {
			seg = repl + seg
		}
		if !split {
			emit(seg, first)
			return
		}
		var spans []span
		prev := 0
		for i := 0; ; {
			j := strings.Index(seg[i:], repl)
			if j < 0 {
				break
			}
			a := i + j
			if a > prev {
				spans = append(spans, span{prev, a, false})
			}
			spans = append(spans, span{a, a + len(repl), true})
			prev, i = a+len(repl), a+len(repl)
		}
		if prev < len(seg) {
			spans = append(spans, span{prev, len(seg), false})
		}
		applyBehavior(seg, first, spans, "MergedWithNext", emit)
	}, nil
}

// isWordChar is \w: letters, marks, decimal digits and connector punctuation.
func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r)
}

// whitespacePre is the Whitespace pre-tokenizer, \w+|[^\w\s]+: runs of word characters and runs of
// other non-space characters; spaces are dropped.
func whitespacePre(seg string, first bool, emit func(string, bool)) {
	const (
		space = iota
		word
		other
	)
	class := func(r rune) int {
		switch {
		case isWordChar(r):
			return word
		case unicode.IsSpace(r):
			return space
		}
		return other
	}
	start, cur := 0, space
	for i, r := range seg {
		c := class(r)
		if c != cur {
			if cur != space && i > start {
				emit(seg[start:i], first && start == 0)
			}
			start, cur = i, c
		}
	}
	if cur != space && len(seg) > start {
		emit(seg[start:], first && start == 0)
	}
}
