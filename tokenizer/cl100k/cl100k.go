// Package cl100k provides tiktoken's "cl100k_base" tokenizer (GPT-3.5 and GPT-4), built from a
// vocabulary embedded in the package, so it works offline and encodes exactly as tiktoken does.
//
//	enc, err := cl100k.Encoding()
//	ids := enc.Encode("Hello, world!") // [9906 11 1917 0]
//
// The vocabulary (cl100k_base.tiktoken, about 1.7 MB) is parsed once, on the first call.
package cl100k

import (
	"bytes"
	_ "embed"
	"sync"

	"github.com/goformer/goformer/tokenizer"
)

// cl100k_base.tiktoken is OpenAI's rank file, byte-identical to the one tiktoken downloads (see
// LICENSE in this directory).
//
//go:embed cl100k_base.tiktoken
var ranks []byte

// The special tokens of cl100k_base.
const (
	EndOfText   = "<|endoftext|>"
	FIMPrefix   = "<|fim_prefix|>"
	FIMMiddle   = "<|fim_middle|>"
	FIMSuffix   = "<|fim_suffix|>"
	EndOfPrompt = "<|endofprompt|>"
)

// Special maps the special tokens to their ids.
func Special() map[string]int {
	return map[string]int{
		EndOfText:   100257,
		FIMPrefix:   100258,
		FIMMiddle:   100259,
		FIMSuffix:   100260,
		EndOfPrompt: 100276,
	}
}

var load = sync.OnceValues(func() (*tokenizer.BPE, error) {
	return tokenizer.ReadTiktoken(bytes.NewReader(ranks), Special(), tokenizer.CL100kPattern)
})

// Encoding returns the cl100k_base tokenizer: VocabSize 100277 (ids 100256 and 100261..100275 are
// unused). Every call returns the same *tokenizer.BPE, which is safe for concurrent use.
func Encoding() (*tokenizer.BPE, error) { return load() }
