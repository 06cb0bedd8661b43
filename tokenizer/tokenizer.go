package tokenizer

import (
	"errors"
	"fmt"
)

// Tokenizer is what a model's training or generation loop needs from a tokenizer.
type Tokenizer interface {
	// Encode turns text into token ids.
	Encode(text string) []int
	// Decode turns token ids back into text; an id outside the vocabulary is an error.
	Decode(ids []int) (string, error)
	// VocabSize is one more than the largest id the tokenizer can produce.
	VocabSize() int
}

var (
	_ Tokenizer = (*BPE)(nil)
	_ Tokenizer = (*Char)(nil)
)

// ErrUnknownToken is wrapped by the errors that decoding an id outside the vocabulary returns.
var ErrUnknownToken = errors.New("tokenizer: unknown token id")

func unknownToken(id, vocab int) error {
	return fmt.Errorf("%w %d (vocabulary size %d)", ErrUnknownToken, id, vocab)
}
