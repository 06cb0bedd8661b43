package hf

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a segment of text before it is pre-tokenized (a segment is the text between
// two added tokens).
type normalizer func(string) string

func buildNormalizer(c *component) (normalizer, error) {
	switch c.Type {
	case "Sequence":
		var steps []normalizer
		for _, raw := range c.Normalizers {
			sub, err := parseComponent(raw, "normalizer")
			if err != nil {
				return nil, err
			}
			n, err := buildNormalizer(sub)
			if err != nil {
				return nil, err
			}
			steps = append(steps, n)
		}
		return func(s string) string {
			for _, n := range steps {
				s = n(s)
			}
			return s
		}, nil
	case "NFC":
		return unicodeForm(norm.NFC), nil
	case "NFD":
		return unicodeForm(norm.NFD), nil
	case "NFKC":
		return unicodeForm(norm.NFKC), nil
	case "NFKD":
		return unicodeForm(norm.NFKD), nil
	case "Prepend":
		p := c.Prepend
		return func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		}, nil
	case "Replace":
		pat, err := c.stringPattern("normalizer Replace")
		if err != nil {
			return nil, err
		}
		content := c.Content
		return func(s string) string { return strings.ReplaceAll(s, pat, content) }, nil
	case "Lowercase":
		return lowercase, nil
	case "Strip":
		left, right := c.StripLeft, c.StripRight
		return func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}, nil
	}
	return nil, unsupported("normalizer", c.Type)
}

// unicodeForm normalizes to a Unicode normal form. ASCII is in every form already, and for NFC so
// is all text below U+0300 (no character there changes or composes with a following one unless that
// one is at U+0300 or above), so the common case costs one scan.
func unicodeForm(f norm.Form) normalizer {
	limit := rune(utf8.RuneSelf)
	if f == norm.NFC {
		limit = 0x300
	}
	return func(s string) string {
		for i := 0; i < len(s); {
			if s[i] < utf8.RuneSelf {
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if r >= limit {
				return f.String(s)
			}
			i += n
		}
		return s
	}
}

func unsupported(what, typ string) error {
	if typ == "" {
		return fmt.Errorf("hf: %s without a type", what)
	}
	return fmt.Errorf("hf: %s %q is not supported", what, typ)
}

// lowercase is Hugging Face's Lowercase: Rust's char::to_lowercase on each character, Unicode's full
// lowercase mapping without context. It differs from Go's unicode.ToLower only for İ (U+0130), which
// becomes "i̇"; a final capital sigma becomes σ, as every other.
func lowercase(s string) string {
	if !strings.ContainsRune(s, 'İ') {
		return strings.ToLower(s)
	}
	return strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307"))
}
