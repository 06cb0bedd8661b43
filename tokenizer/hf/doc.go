// Package hf reads Hugging Face tokenizers (tokenizer.json) and chat templates
// (tokenizer_config.json), and encodes and decodes exactly as Hugging Face's tokenizers library and
// transformers do, so that a Llama, Qwen, SmolLM, Mistral or Gemma model directory can be given text:
//
//	tok, err := hf.Load("path/to/model")           // tokenizer.json (+ tokenizer_config.json)
//	ids := tok.EncodeWith("Hello, world!", true)   // encode(text, add_special_tokens=True)
//	text, err := tok.DecodeWith(ids, true)         // decode(ids, skip_special_tokens=True)
//	chat, err := tok.ChatTemplate()                // from tokenizer_config.json
//	prompt, err := chat.Render(msgs, true)         // apply_chat_template(..., add_generation_prompt=True)
//
// A *Tokenizer is a tokenizer.Tokenizer: Encode(text) is EncodeWith(text, true), transformers'
// default, and Decode(ids) is DecodeWith(ids, false). It is immutable and safe for concurrent use.
//
// # What it reads
//
// The model must be BPE: byte-level (GPT-2, Llama 3, Qwen, SmolLM: a ByteLevel pre-tokenizer, with or
// without a Split regex before it, ignore_merges) or SentencePiece-style (Llama 2, Mistral, Gemma:
// "▁" for spaces, byte_fallback to <0xNN> tokens, unk_token, fuse_unk). The pieces around it:
//
//	normalizers     NFC NFD NFKC NFKD Prepend Replace(string) Lowercase Strip Sequence
//	pre-tokenizers  Split(string, or the GPT-2, cl100k/Llama 3 or Qwen regex; every behaviour, invert)
//	                ByteLevel(add_prefix_space, use_regex) Metaspace(prepend_scheme, split) Digits
//	                Whitespace WhitespaceSplit Sequence
//	post-processors TemplateProcessing(single sequences) ByteLevel BertProcessing RobertaProcessing Sequence
//	decoders        ByteLevel Replace(string) ByteFallback Fuse Strip Metaspace Sequence
//
// Anything else in the file (another model, normalizer, pre-tokenizer, regex, decoder, truncation,
// padding, dropout, a continuing_subword_prefix) is an error at load that names it, never a tokenizer
// that encodes differently. The regexes of real files use look-ahead and Unicode classes, which Go's
// regexp lacks; they are matched by the hand-written splitters of package tokenizer (KnownSplitter).
//
// # Encoding
//
// As in Hugging Face: added tokens (added_tokens: <|im_start|>, <s>, ...) are cut out of the text
// first, leftmost and longest, with their single_word, lstrip, rstrip and normalized flags, whatever
// addSpecialTokens says; each stretch of text between them is normalized, pre-tokenized into pieces,
// and each piece is merged by the BPE (lowest merge rank first, the leftmost among equals); with
// addSpecialTokens the post-processor then adds its tokens (Llama 2's <s>). Added tokens take the ids
// Hugging Face gives them, which is the file's id in every file it writes. Long pieces (a megabyte of
// one letter, or a whole text that a SentencePiece-style file does not pre-tokenize) merge in time
// that grows linearly.
//
// # Decoding
//
// Decoding runs the decoder chain over the tokens' strings; bytes that do not form UTF-8 become U+FFFD
// as Rust's from_utf8_lossy makes them. StreamDecoder gives the same text piece by piece as ids arrive
// (for printing while a model generates), never splitting a character; TokenBytes makes *Tokenizer a
// tokenizer.TokenByter too, for code written for tokenizer.StreamDecoder.
//
// # Chat templates
//
// ChatTemplate renders tokenizer_config.json's chat_template with messages, add_generation_prompt,
// bos_token and eos_token, with Jinja's trim_blocks and lstrip_blocks as transformers sets them
// (through github.com/ardanlabs/jinja, which renders every template vector exactly).
package hf
