package hf

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// decodeStep is one decoder of the chain: it rewrites the list of token strings, as Hugging Face's
// decode_chain does. With raw, bytes that are not valid UTF-8 are kept as they are instead of being
// replaced by U+FFFD (the stream decoder needs them to know a character is still incomplete). With
// mid, the tokens are not at the start of the text, so the steps that only touch the start of the
// text (Strip's start on the first token, Metaspace's first token) leave them alone.
type decodeStep func(tokens []string, raw, mid bool) []string

func buildDecoder(c *component) (decodeStep, error) {
	switch c.Type {
	case "Sequence":
		var steps []decodeStep
		for _, r := range c.Decoders {
			sub, err := parseComponent(r, "decoder")
			if err != nil {
				return nil, err
			}
			d, err := buildDecoder(sub)
			if err != nil {
				return nil, err
			}
			steps = append(steps, d)
		}
		return func(tokens []string, raw, mid bool) []string {
			for _, d := range steps {
				tokens = d(tokens, raw, mid)
			}
			return tokens
		}, nil
	case "ByteLevel":
		return byteLevelDecode, nil
	case "Replace":
		pat, err := c.stringPattern("decoder Replace")
		if err != nil {
			return nil, err
		}
		content := c.Content
		return func(tokens []string, _, _ bool) []string {
			for i, t := range tokens {
				tokens[i] = strings.ReplaceAll(t, pat, content)
			}
			return tokens
		}, nil
	case "ByteFallback":
		return byteFallbackDecode, nil
	case "Fuse":
		return func(tokens []string, _, _ bool) []string { return []string{strings.Join(tokens, "")} }, nil
	case "Strip":
		if utf8.RuneCountInString(c.Content) != 1 || c.Start < 0 || c.Stop < 0 {
			return nil, fmt.Errorf("hf: decoder Strip with content %q, start %d, stop %d", c.Content, c.Start, c.Stop)
		}
		content, _ := utf8.DecodeRuneInString(c.Content)
		start, stop := c.Start, c.Stop
		return func(tokens []string, _, mid bool) []string {
			for i, t := range tokens {
				tokens[i] = stripChars(t, content, start, stop, mid && i == 0)
			}
			return tokens
		}, nil
	case "Metaspace":
		repl := []rune(c.Replacement)
		if len(repl) != 1 {
			return nil, fmt.Errorf("hf: Metaspace replacement %q is not one character", c.Replacement)
		}
		scheme := c.PrependScheme
		if scheme == "" && c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			scheme = "never"
		}
		return func(tokens []string, _, mid bool) []string {
			for i, t := range tokens {
				with := " "
				if i == 0 && !mid && scheme != "never" {
					with = "" // the first token's ▁ are dropped, as Hugging Face does
				}
				tokens[i] = strings.ReplaceAll(t, string(repl), with)
			}
			return tokens
		}, nil
	}
	return nil, unsupported("decoder", c.Type)
}

// byteLevelDecode joins the tokens and reads their characters in GPT-2's byte-level alphabet; a
// token with a character outside it (an added token such as "<|im_start|>" is inside it, one with a
// space is not) gives its own UTF-8 bytes.
func byteLevelDecode(tokens []string, raw, _ bool) []string {
	var b []byte
	for _, t := range tokens {
		if bs, ok := fromByteLevel(t); ok {
			b = append(b, bs...)
		} else {
			b = append(b, t...)
		}
	}
	if raw {
		return []string{string(b)}
	}
	return []string{lossy(b)}
}

// byteFallbackDecode turns runs of <0xNN> tokens into their bytes; a run that is not valid UTF-8
// becomes one U+FFFD per byte, as in Hugging Face. With raw, a run at the end of the tokens that is
// not invalid yet is kept as bytes and followed by holdBack, since the next byte token could still
// make it invalid, and so change all of it.
func byteFallbackDecode(tokens []string, raw, _ bool) []string {
	out := make([]string, 0, len(tokens))
	var run []byte
	flush := func(last bool) {
		if len(run) == 0 {
			return
		}
		switch cut := len(run) - pendingTail(run); {
		case raw && last && utf8.Valid(run[:cut]):
			out = append(out, string(run)+holdBack)
		case utf8.Valid(run):
			out = append(out, string(run))
		default:
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range tokens {
		if b, ok := byteToken(t); ok {
			run = append(run, b)
			continue
		}
		flush(false)
		out = append(out, t)
	}
	flush(true)
	return out
}

// holdBack is the lead byte of a three-byte UTF-8 sequence: a raw decode that ends with it is, to the
// stream decoder, unfinished, so it waits for the next token.
const holdBack = "\xe0"

// byteToken reads "<0xNN>" (hex digits in either case, as Rust's from_str_radix accepts).
func byteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(t[3:5]) {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | (c - '0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// stripChars removes up to start leading (unless keepStart) and stop trailing copies of c from t.
func stripChars(t string, c rune, start, stop int, keepStart bool) string {
	if !keepStart {
		for k := 0; k < start; k++ {
			r, n := utf8.DecodeRuneInString(t)
			if n == 0 || r != c {
				break
			}
			t = t[n:]
		}
	}
	for k := 0; k < stop; k++ {
		r, n := utf8.DecodeLastRuneInString(t)
		if n == 0 || r != c {
			break
		}
		t = t[:len(t)-n]
	}
	return t
}

// lossy is Rust's String::from_utf8_lossy: each maximal ill-formed subsequence (the longest prefix
// of a valid sequence, or one byte) becomes one U+FFFD.
func lossy(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[i : i+n])
			i += n
			continue
		}
		sb.WriteString("\uFFFD")
		i += invalidPrefix(b[i:])
	}
	return sb.String()
}

// invalidPrefix returns the length of the maximal subpart at the start of b, which does not begin a
// valid character: a lead byte followed by the continuation bytes that could still have completed it.
func invalidPrefix(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c >= 0xE0 && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case c >= 0xF0 && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1
	}
	k := 1
	for ; k <= need && k < len(b); k++ {
		if k == 1 && (b[k] < lo || b[k] > hi) || k > 1 && (b[k] < 0x80 || b[k] > 0xBF) {
			break
		}
	}
	return k
}
