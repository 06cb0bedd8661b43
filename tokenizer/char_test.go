package tokenizer_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer"
)

func TestCharShakespeare(t *testing.T) {
	text := string(readFixture(t, "", fixture.ShakespeareRel))
	c := tokenizer.NewChar(text)
	// nanoGPT's shakespeare_char: 65 characters, "\n !$&',-.3:;?ABC...abc...z".
	require.Equal(t, 65, c.VocabSize())
	assert.Equal(t, "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", c.Vocab())
	ids := c.Encode("hii there")
	assert.Equal(t, []int{46, 47, 47, 1, 58, 46, 43, 56, 43}, ids) // nanoGPT's lecture prints these
	s, err := c.Decode(ids)
	require.NoError(t, err)
	assert.Equal(t, "hii there", s)
}

func TestChar(t *testing.T) {
	c := tokenizer.NewChar("héllo wörld\n")
	assert.Equal(t, 10, c.VocabSize())
	assert.Equal(t, "\n dhlorwéö", c.Vocab())
	ids, err := c.EncodeStrict("wörld")
	require.NoError(t, err)
	s, err := c.Decode(ids)
	require.NoError(t, err)
	assert.Equal(t, "wörld", s)

	_, err = c.EncodeStrict("hold!")
	assert.ErrorContains(t, err, "'!'")
	assert.Equal(t, c.Encode("hllo"), c.Encode("hel!lo"), "Encode skips unknown characters")
	_, err = c.Decode([]int{0, 10})
	assert.ErrorIs(t, err, tokenizer.ErrUnknownToken)
	_, err = c.Decode([]int{-1})
	assert.ErrorIs(t, err, tokenizer.ErrUnknownToken)

	back, err := tokenizer.CharFromVocab(c.Vocab())
	require.NoError(t, err)
	assert.Equal(t, c.Vocab(), back.Vocab())
	assert.Equal(t, c.Encode("hello wörld"), back.Encode("hello wörld"))

	for _, bad := range []string{"ba", "aa", "a\xff"} {
		_, err := tokenizer.CharFromVocab(bad)
		assert.Error(t, err, "%q", bad)
	}
	empty := tokenizer.NewChar("")
	assert.Equal(t, 0, empty.VocabSize())
}

func TestCharInvalidUTF8(t *testing.T) {
	c := tokenizer.NewChar("ab\ufffd")
	_, err := c.EncodeStrict("a\xffb")
	assert.ErrorContains(t, err, "invalid UTF-8")
	assert.Equal(t, c.Encode("ab"), c.Encode("a\xffb"))
	ids, err := c.EncodeStrict("a\ufffd")
	require.NoError(t, err)
	assert.Equal(t, []int{0, 2}, ids)
}
