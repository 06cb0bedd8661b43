package tokenizer

import "unicode/utf8"

// TokenByter gives the bytes of a single token; BPE and Char are TokenByters.
type TokenByter interface {
	TokenBytes(id int) ([]byte, error)
}

// StreamDecoder turns a stream of token ids into text as they arrive. A byte-level token can end in
// the middle of a UTF-8 character; the decoder holds such a tail back until the tokens that complete
// it arrive, so that each piece of text it returns can be printed on its own.
type StreamDecoder struct {
	tok     TokenByter
	pending []byte
}

// NewStreamDecoder returns a StreamDecoder for tok.
func NewStreamDecoder(tok TokenByter) *StreamDecoder {
	return &StreamDecoder{tok: tok}
}

// Add decodes one more token and returns the text that is now complete (possibly empty). Bytes that
// can never become valid UTF-8 are returned as they are, not held.
func (d *StreamDecoder) Add(id int) (string, error) {
	b, err := d.tok.TokenBytes(id)
	if err != nil {
		return "", err
	}
	d.pending = append(d.pending, b...)
	cut := completePrefix(d.pending)
	out := string(d.pending[:cut])
	d.pending = append(d.pending[:0], d.pending[cut:]...)
	return out, nil
}

// Flush returns whatever is held back (an incomplete character at the end of the stream) and resets
// the decoder.
func (d *StreamDecoder) Flush() string {
	out := string(d.pending)
	d.pending = d.pending[:0]
	return out
}

// completePrefix returns the length of the longest prefix of b that does not end inside a UTF-8
// sequence that further bytes could still complete.
func completePrefix(b []byte) int {
	// A sequence is at most 4 bytes: look back at most 3 bytes for its lead byte.
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return len(b) // ASCII: nothing pending after it
		}
		if c >= 0xC0 { // a lead byte: is what follows it a valid but unfinished start?
			tail := b[len(b)-k:]
			if !utf8.FullRune(tail) {
				return len(b) - k
			}
			return len(b)
		}
	}
	return len(b)
}
