package hf

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// StreamDecoder turns ids into text as they arrive, giving exactly the text that DecodeWith gives
// for all of them, in pieces that never split a character. It follows Hugging Face's DecodeStream:
// it decodes a short window of recent ids with and without the newest one and returns the
// difference, so that rules for the start of the text (Llama 2's first space) apply once; while the
// window's text ends inside a UTF-8 character, it waits for the ids that complete it.
type StreamDecoder struct {
	t      *Tokenizer
	skip   bool
	ids    []int
	prefix string // the raw text of ids[:start]
	start  int
}

// NewStreamDecoder returns a stream decoder; skipSpecialTokens is as in DecodeWith.
func (t *Tokenizer) NewStreamDecoder(skipSpecialTokens bool) *StreamDecoder {
	return &StreamDecoder{t: t, skip: skipSpecialTokens}
}

// Add decodes one more id and returns the text that is now complete (possibly empty).
func (d *StreamDecoder) Add(id int) (string, error) {
	d.ids = append(d.ids, id)
	s, err := d.t.decode(d.ids, d.skip, true, false)
	if err != nil {
		d.ids = d.ids[:len(d.ids)-1]
		return "", err
	}
	if len(s) <= len(d.prefix) || !complete(s) {
		return "", nil
	}
	if !strings.HasPrefix(s, d.prefix) {
		return "", fmt.Errorf("hf: stream decode: %q does not continue %q", s, d.prefix)
	}
	out := lossy([]byte(s[len(d.prefix):]))
	next := len(d.ids) - d.start
	d.ids = append(d.ids[:0], d.ids[d.start:]...)
	d.prefix, _ = d.t.decode(d.ids, d.skip, true, false)
	d.start = next
	return out, nil
}

// Flush returns what is held back (the bytes of a character the stream ended inside, as U+FFFD) and
// resets the decoder.
func (d *StreamDecoder) Flush() string {
	s, _ := d.t.decode(d.ids, d.skip, true, false)
	out := ""
	if len(s) > len(d.prefix) && strings.HasPrefix(s, d.prefix) {
		out = lossy([]byte(s[len(d.prefix):]))
	}
	d.ids, d.prefix, d.start = d.ids[:0], "", 0
	return out
}

// complete reports whether s does not end inside a UTF-8 character that more bytes could finish.
func complete(s string) bool {
	for k := 1; k <= 3 && k <= len(s); k++ {
		c := s[len(s)-k]
		if c < 0x80 {
			return true
		}
		if c >= 0xC0 {
			return utf8.FullRuneInString(s[len(s)-k:])
		}
	}
	return true
}
