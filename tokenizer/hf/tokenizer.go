package hf

import (
	"fmt"
	"maps"
	"strings"

	"github.com/goformer/goformer/tokenizer"
)

// Tokenizer is a tokenizer read from a Hugging Face tokenizer.json. It is immutable and safe for
// concurrent use.
type Tokenizer struct {
	normalize normalizer   // nil for none
	pre       preTokenizer // nil for none
	model     *bpe
	post      postProcessor // nil for none
	decoder   decodeStep    // nil: tokens are joined with spaces, as Hugging Face does

	rawAdded  *addedMatcher // added tokens matched in the text as given (normalized false)
	normAdded *addedMatcher // added tokens matched in the normalized text (normalized true)

	tokens  []string // id -> token as the file writes it ("" where unused)
	used    []bool
	special []bool
	ids     map[string]int // added token content -> id

	chat    *ChatTemplate // from tokenizer_config.json, when Load found one
	chatErr error         // why there is none
}

var _ tokenizer.Tokenizer = (*Tokenizer)(nil)

// VocabSize returns one more than the largest id (of the model's vocabulary and the added tokens).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// TokenID returns the id of an added token (such as "<|im_end|>" or "<s>") or of a token of the
// model's vocabulary, as the file writes it.
func (t *Tokenizer) TokenID(token string) (int, bool) {
	if id, ok := t.ids[token]; ok {
		return id, true
	}
	for id, s := range t.tokens { // rare: a linear scan keeps no second map of the vocabulary
		if t.used[id] && s == token {
			return id, true
		}
	}
	return 0, false
}

// Token returns the token of id as the file writes it (for byte-level vocabularies, in GPT-2's
// alphabet: "Ġthe").
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.tokens) || !t.used[id] {
		return "", false
	}
	return t.tokens[id], true
}

// AddedTokens returns the added tokens, text -> id: the strings recognised in the text before the
// model runs.
func (t *Tokenizer) AddedTokens() map[string]int { return maps.Clone(t.ids) }

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int) bool { return id >= 0 && id < len(t.special) && t.special[id] }

// Encode returns the ids of text with the special tokens that the post-processor adds (as
// transformers' tokenizer(text) and encode(text) do by default): EncodeWith(text, true).
func (t *Tokenizer) Encode(text string) []int { return t.EncodeWith(text, true) }

// EncodeWith returns the ids of text as Hugging Face's encode(text, add_special_tokens) does: added
// tokens in the text ("<|im_start|>", "<s>") are recognised whatever addSpecialTokens says; it
// decides only whether the post-processor adds its tokens (Llama 2's <s> at the start).
func (t *Tokenizer) EncodeWith(text string, addSpecialTokens bool) []int {
	dst := make([]int, 0, len(text)/4+4)
	t.rawAdded.split(text, func(part string, id, start int) {
		if id >= 0 {
			dst = append(dst, id)
			return
		}
		first := start == 0
		if t.normalize != nil {
			part = t.normalize(part)
		}
		t.normAdded.split(part, func(sub string, id, s int) {
			if id >= 0 {
				dst = append(dst, id)
				return
			}
			t.encodeSegment(&dst, sub, first && s == 0)
		})
	})
	if addSpecialTokens && t.post != nil {
		dst = t.post(dst)
	}
	return dst
}

// Count returns the number of tokens of text without the post-processor's special tokens.
func (t *Tokenizer) Count(text string) int { return len(t.EncodeWith(text, false)) }

func (t *Tokenizer) encodeSegment(dst *[]int, seg string, first bool) {
	if t.pre == nil {
		*dst = t.model.appendPiece(*dst, seg)
		return
	}
	t.pre(seg, first, func(piece string, _ bool) {
		*dst = t.model.appendPiece(*dst, piece)
	})
}

// Decode returns the text of ids with their special tokens, as Hugging Face's decode(ids) does by
// default: DecodeWith(ids, false).
func (t *Tokenizer) Decode(ids []int) (string, error) { return t.DecodeWith(ids, false) }

// DecodeWith returns the text of ids as Hugging Face's decode(ids, skip_special_tokens) does: the
// tokens go through the decoder chain (byte-level bytes, ▁ to space, <0xNN> bytes, ...); bytes that
// are not valid UTF-8 become U+FFFD. An id outside the vocabulary is an error.
func (t *Tokenizer) DecodeWith(ids []int, skipSpecialTokens bool) (string, error) {
	return t.decode(ids, skipSpecialTokens, false, false)
}

func (t *Tokenizer) decode(ids []int, skip, raw, mid bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || !t.used[id] {
			return "", fmt.Errorf("%w %d (vocabulary size %d)", tokenizer.ErrUnknownToken, id, len(t.tokens))
		}
		if skip && t.special[id] {
			continue
		}
		toks = append(toks, t.tokens[id])
	}
	if t.decoder == nil {
		return strings.Join(toks, " "), nil
	}
	return strings.Join(t.decoder(toks, raw, mid), ""), nil
}

// TokenBytes returns the bytes that token id contributes to a decoded text when it is not the first
// token (the decoder's rules for the start of the text, such as dropping Llama 2's first space, do
// not apply). With it, *Tokenizer is a tokenizer.TokenByter; NewStreamDecoder decodes exactly.
func (t *Tokenizer) TokenBytes(id int) ([]byte, error) {
	s, err := t.decode([]int{id}, false, true, true)
	return []byte(s), err
}
