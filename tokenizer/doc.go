// Package tokenizer turns text into token ids and back: byte-level BPE exactly as OpenAI's tiktoken
// encodes GPT-2 (r50k_base) and cl100k_base, a fast BPE trainer for your own vocabulary, and a
// character-level tokenizer for the first lessons.
//
// The built-in encodings live in subpackages so that only their importers pay for the embedded
// vocabularies:
//
//	enc, err := gpt2.Encoding()            // tokenizer/gpt2, or cl100k.Encoding()
//	ids := enc.Encode("Hello, world!")     // [15496 11 995 0]
//	text, err := enc.Decode(ids)
//
// # Encoding
//
// A BPE first cuts the text into pieces with its pattern (GPT2Pattern, CL100kPattern, or any Go
// regexp), then, inside each piece, starts from its bytes and repeatedly merges the adjacent pair whose
// concatenated bytes have the lowest rank (the leftmost pair on ties). The rank of a token is its id.
// Text is arbitrary bytes: invalid UTF-8 is encoded byte by byte, and Decode gives back exactly the
// bytes that were encoded, so decode(encode(s)) == s for every string s. A token may hold part of a
// UTF-8 sequence; StreamDecoder holds such bytes back until the character is complete.
//
// Special tokens such as <|endoftext|> follow tiktoken's rules. Encode treats them as ordinary text
// (the string "<|endoftext|>" becomes several ordinary tokens). EncodeSpecial recognises only the
// specials it is given; every other special-token string stays ordinary text, so a special can never
// enter by accident through user text. ContainsSpecial lets a caller reject such text instead, as
// tiktoken's encode does by default.
//
// A *BPE is immutable once built and safe for concurrent use by many goroutines. EncodeBatch encodes
// many texts on all cores. Encoding time grows linearly with the text, whatever it holds: a megabyte
// of spaces or of one letter is a single piece, which is merged in linear time too.
//
// # Building and reading a BPE
//
// New is the one constructor: it takes the mergeable tokens (bytes -> rank), the special tokens
// (name -> id) and the split pattern. Train learns the tokens from text; Save and Load keep the
// result:
//
//	enc, err := tokenizer.Train(ctx, text, tokenizer.TrainConfig{VocabSize: 4096})
//	err = enc.Save("mytok")                 // mytok.tiktoken and mytok.json
//	enc, err = tokenizer.Load("mytok")
//
// Files are read by one function per format, each named after it:
//
//	Load(prefix)                              PREFIX.tiktoken + PREFIX.json, as Save writes them
//	ReadTiktoken(r, special, pattern)         an OpenAI rank file ("<base64 token> <rank>" lines)
//	ReadGPT2(encoderJSON, vocabBPE, special)  GPT-2's original encoder.json and vocab.bpe
//
// A rank file holds only the mergeable tokens, so ReadTiktoken is given the rest; Save adds a JSON
// file with the pattern and the special tokens, so Load needs nothing more. A malformed,
// truncated or inconsistent file is an error, never a panic.
//
// # Training
//
// Train and TrainReader learn a vocabulary as minbpe's RegexTokenizer does (split with a pattern,
// then repeatedly merge the most frequent adjacent pair), counting each distinct piece once with its
// frequency and updating pair counts incrementally. Ties are broken deterministically; see Train.
//
// # Characters
//
// Char maps each distinct character of a text to an id in sorted order, the vocabulary of
// char-level GPT demos. Char and BPE both satisfy Tokenizer.
package tokenizer
