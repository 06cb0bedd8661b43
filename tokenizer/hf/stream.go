package hf

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// StreamDecoder turns ids into text as they arrive, giving exactly the text that DecodeWith gives
// for all of them, in pieces that never split a character. Like Hugging Face's DecodeStream, it
// decodes a short window of recent ids with and without the newest one and returns the difference;
// while the window's text ends inside a UTF-8 character, it waits for the ids that complete it.
// Unlike DecodeStream, the rules for the start of the text (Llama 2's first space) apply once only,
// so that the pieces always add up to DecodeWith's text.
type StreamDecoder struct {
	t       *Tokenizer
	skip    bool
	ids     []int  // the window: recent ids
	prefix  string // the raw text of the window before its newest id was added
	start   int    // where the next window starts in ids
	atStart bool   // the window starts at the first id of the stream
}

// NewStreamDecoder returns a stream decoder; skipSpecialTokens is as in DecodeWith.
func (t *Tokenizer) NewStreamDecoder(skipSpecialTokens bool) *StreamDecoder {
	return &StreamDecoder{t: t, skip: skipSpecialTokens, atStart: true}
}

func (d *StreamDecoder) window(ids []int) (string, error) {
	return d.t.decode(ids, d.skip, true, !d.atStart)
}

// Add decodes one more id and returns the text that is now complete (possibly empty).
func (d *StreamDecoder) Add(id int) (string, error) {
	d.ids = append(d.ids, id)
	s, err := d.window(d.ids)
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
	// The window may leave the start of the stream only once the rules for the start of the text
	// (Strip's leading spaces, Metaspace's first token) are settled: when the ids it drops decode to
	// something, a character that was not stripped.
	drop := d.start
	if d.atStart && drop > 0 {
		if head, _ := d.window(d.ids[:drop]); head == "" {
			drop = 0
		}
	}
	if drop > 0 {
		d.ids = append(d.ids[:0], d.ids[drop:]...)
		d.atStart = false
	}
	d.prefix, _ = d.window(d.ids)
	d.start = len(d.ids)
	return out, nil
}

// Flush returns what is held back (the bytes of a character the stream ended inside, as U+FFFD) and
// resets the decoder.
func (d *StreamDecoder) Flush() string {
	s, _ := d.window(d.ids)
	out := ""
	if len(s) > len(d.prefix) && strings.HasPrefix(s, d.prefix) {
		out = lossy([]byte(s[len(d.prefix):]))
	}
	d.ids, d.prefix, d.start, d.atStart = d.ids[:0], "", 0, true
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
