package hf

import "unicode/utf8"

// GPT-2's byte-level alphabet: every byte is written as a printable character, so that a vocabulary
// of byte strings can be stored as text. Printable Latin-1 bytes stand for themselves; the others
// (controls, space, DEL, NBSP, soft hyphen) take the characters from U+0100 upwards, in byte order.

var (
	byteChar [256]rune    // byte -> its character
	charByte [0x144]int16 // character -> its byte, -1 where the character is not in the alphabet
)

func init() {
	for i := range charByte {
		charByte[i] = -1
	}
	n := rune(0)
	for b := range 256 {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
			byteChar[b] = rune(b)
		} else {
			byteChar[b] = 0x100 + n
			n++
		}
		charByte[byteChar[b]] = int16(b)
	}
}

// fromByteLevel returns the bytes that the characters of s stand for, or false if some character is
// not in the alphabet (the ByteLevel decoder then keeps the token's own UTF-8 bytes).
func fromByteLevel(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r >= rune(len(charByte)) || charByte[r] < 0 {
			return nil, false
		}
		out = append(out, byte(charByte[r]))
	}
	return out, true
}

// toByteLevel writes each byte of s as its character.
func toByteLevel(s string) string {
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = utf8.AppendRune(out, byteChar[s[i]])
	}
	return string(out)
}
