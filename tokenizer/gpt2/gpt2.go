// Package gpt2 provides GPT-2's tokenizer (tiktoken's "gpt2" / "r50k_base"), built from a vocabulary
// embedded in the package, so it works offline and encodes exactly as tiktoken does.
//
//	enc, err := gpt2.Encoding()
//	ids := enc.Encode("Hello, world!") // [15496 11 995 0]
//
// The vocabulary (r50k_base.tiktoken, about 0.8 MB) is parsed once, on the first call.
package gpt2

import (
	"bytes"
	_ "embed"
	"sync"

	"github.com/goformer/goformer/tokenizer"
)

// r50k_base.tiktoken is OpenAI's rank file for GPT-2, byte-identical to the one tiktoken downloads
// (see LICENSE in this directory).
//
//go:embed r50k_base.tiktoken
var ranks []byte

// EndOfText is the special token that separates documents.
const EndOfText = "<|endoftext|>"

// EndOfTextID is its id.
const EndOfTextID = 50256

var load = sync.OnceValues(func() (*tokenizer.BPE, error) {
	return tokenizer.ReadTiktoken(bytes.NewReader(ranks), map[string]int{EndOfText: EndOfTextID}, tokenizer.GPT2Pattern)
})

// Encoding returns the GPT-2 tokenizer: 50257 tokens, of which <|endoftext|> (50256) is special.
// Every call returns the same *tokenizer.BPE, which is safe for concurrent use.
func Encoding() (*tokenizer.BPE, error) { return load() }
