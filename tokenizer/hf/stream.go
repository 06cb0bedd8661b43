package hf

import (
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
	// The text so far is a prefix of the window's text, except where byte tokens that arrive later
	// make a character already given invalid (Hugging Face then replaces the whole run of byte
	// tokens); the stream cannot take back what it gave, and goes on after it.
	out := lossy([]byte(s[len(d.prefix):]))
	// The window may leave the start of the stream only once the rules for the start of the text
	// (Strip's leading spaces, Metaspace's first token) are settled: when the ids it drops decode to
	// something, a character that was not stripped.
	drop := d.start
	// Nor may it start inside a run of <0xNN> tokens, which ByteFallback decodes as a whole.
	for drop > 0 && drop < len(d.ids) && d.isByte(d.ids[drop]) && d.isByte(d.ids[drop-1]) {
		drop--
	}
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

func (d *StreamDecoder) isByte(id int) bool {
	_, ok := byteToken(d.t.tokens[id])
	return ok
}

// Flush returns what is held back (a character the stream ended inside, as DecodeWith gives it:
// U+FFFD) and resets the decoder.
func (d *StreamDecoder) Flush() string {
	// Decoded in full (not raw), the window and the part of it already given.
	s, _ := d.t.decode(d.ids, d.skip, false, !d.atStart)
	given, _ := d.t.decode(d.ids[:d.start], d.skip, false, !d.atStart)
	out := ""
	if len(s) > len(given) && strings.HasPrefix(s, given) {
		out = s[len(given):]
	}
	d.ids, d.prefix, d.start, d.atStart = d.ids[:0], "", 0, true
	return out
}

// complete reports whether s does not end inside a UTF-8 character that more bytes could finish.
func complete(s string) bool { return pendingTail([]byte(s)) == 0 }

// pendingTail returns the length of the unfinished UTF-8 character at the end of b (0 if none):
// a lead byte and the continuation bytes after it, fewer than it announces.
func pendingTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 {
			if utf8.FullRune(b[len(b)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}
