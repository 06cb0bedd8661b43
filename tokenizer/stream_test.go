package tokenizer_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer"
)

func TestStreamDecoder(t *testing.T) {
	for name, enc := range encodings(t) {
		text := "Emoji 🙂🙃, kanji 漢字, and \xff invalid bytes \xe2\x82 end"
		d := tokenizer.NewStreamDecoder(enc)
		var out strings.Builder
		for _, id := range enc.Encode(text) {
			s, err := d.Add(id)
			require.NoError(t, err)
			// No piece may split a character: apart from the text's own invalid bytes, each is valid.
			clean := strings.NewReplacer("\xff", "", "\xe2\x82", "").Replace(s)
			assert.True(t, utf8.ValidString(clean), "%s: piece %q", name, s)
			out.WriteString(s)
		}
		out.WriteString(d.Flush())
		assert.Equal(t, text, out.String(), name)
	}
}

func TestStreamDecoderHoldsIncomplete(t *testing.T) {
	d := tokenizer.NewStreamDecoder(byteTokens{})
	steps := []struct {
		b    byte
		want string
	}{
		{'a', "a"}, {0xF0, ""}, {0x9F, ""}, {0x99, ""}, {0x82, "🙂"},
		{0xE6, ""}, {'x', "\xe6x"}, // cannot complete: released
		{0xC3, ""},
	}
	for _, s := range steps {
		got, err := d.Add(int(s.b))
		require.NoError(t, err)
		assert.Equal(t, s.want, got, "after byte %#x", s.b)
	}
	assert.Equal(t, "\xc3", d.Flush())
	assert.Equal(t, "", d.Flush())
	_, err := d.Add(300)
	assert.Error(t, err)

	c := tokenizer.NewChar("aé")
	cd := tokenizer.NewStreamDecoder(c)
	s, err := cd.Add(1)
	require.NoError(t, err)
	assert.Equal(t, "é", s)
}

// byteTokens: token i is byte i.
type byteTokens struct{}

func (byteTokens) TokenBytes(id int) ([]byte, error) {
	if id < 0 || id > 255 {
		return nil, tokenizer.ErrUnknownToken
	}
	return []byte{byte(id)}, nil
}
