package main

// Every tokenizer call of the explorer is in this file, so that when the tokenizer loaders change
// there is one place to update.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/gpt2"
	"github.com/goformer/goformer/tokenizer/hf"
)

// vocab is a model's tokenizer, as the explorer uses it: encoding the Run view's text, showing
// each token's piece, and what a checkpoint keeps to rebuild it.
type vocab struct {
	kind string // "char", "bpe", "gpt2", "hf" (a directory's tokenizer.json) or "ids" (none)
	tok  interface {
		Encode(text string) []int
		VocabSize() int
		TokenBytes(id int) ([]byte, error)
	}
	// meta is what a checkpoint stores to rebuild the tokenizer, in examples/shakespeare's keys
	// ("tokenizer", "vocab") plus, for a BPE, its rank file ("bpe_tiktoken").
	meta map[string]string
}

// charVocab is the character vocabulary of text (nanoGPT's shakespeare_char).
func charVocab(text string) *vocab {
	c := tokenizer.NewChar(text)
	return &vocab{kind: "char", tok: c, meta: map[string]string{"tokenizer": "char", "vocab": c.Vocab()}}
}

// bpeVocab learns a byte-level BPE of size tokens from text, with GPT-2's split pattern, as
// examples/shakespeare's -tokenizer bpe does (deterministic: the same text gives the same vocabulary).
func bpeVocab(ctx context.Context, text string, size int) (*vocab, error) {
	b, err := tokenizer.Train(ctx, text, tokenizer.TrainConfig{VocabSize: size, Pattern: tokenizer.GPT2Pattern})
	if err != nil {
		return nil, err
	}
	var ranks bytes.Buffer
	if err := b.WriteTiktoken(&ranks); err != nil {
		return nil, err
	}
	return &vocab{kind: "bpe", tok: b, meta: map[string]string{
		"tokenizer": "bpe", "vocab": bpeID(b.VocabSize(), ranks.Bytes()), "bpe_tiktoken": ranks.String(),
	}}, nil
}

// bpeID is how examples/shakespeare names a BPE vocabulary in its checkpoints.
func bpeID(size int, ranks []byte) string {
	return fmt.Sprintf("bpe %d %x", size, sha256.Sum256(ranks))
}

// gpt2Vocab is GPT-2's own tokenizer (embedded in tokenizer/gpt2).
func gpt2Vocab() (*vocab, error) {
	enc, err := gpt2.Encoding()
	if err != nil {
		return nil, err
	}
	return &vocab{kind: "gpt2", tok: enc, meta: map[string]string{"tokenizer": "gpt2", "vocab": "gpt2"}}, nil
}

// vocabFromMeta rebuilds the tokenizer a checkpoint was trained with, from its metadata: the
// explorer's own checkpoints and examples/shakespeare's. A BPE that examples/shakespeare learned
// is learned again from the text it names (the embedded tiny Shakespeare, or a file that still
// exists), and must come out the same.
func vocabFromMeta(ctx context.Context, meta map[string]string, readFile func(string) ([]byte, error)) (*vocab, error) {
	switch kind := meta["tokenizer"]; kind {
	case "char", "":
		c, err := tokenizer.CharFromVocab(meta["vocab"])
		if err != nil {
			return nil, err
		}
		if c.VocabSize() == 0 {
			return nil, fmt.Errorf("the checkpoint names no tokenizer")
		}
		return &vocab{kind: "char", tok: c, meta: map[string]string{"tokenizer": "char", "vocab": c.Vocab()}}, nil
	case "gpt2":
		return gpt2Vocab()
	case "bpe":
		if ranks, ok := meta["bpe_tiktoken"]; ok {
			b, err := tokenizer.ReadTiktoken(strings.NewReader(ranks), nil, tokenizer.GPT2Pattern)
			if err != nil {
				return nil, err
			}
			return &vocab{kind: "bpe", tok: b, meta: map[string]string{
				"tokenizer": "bpe", "vocab": bpeID(b.VocabSize(), []byte(ranks)), "bpe_tiktoken": ranks,
			}}, nil
		}
		var size int
		if _, err := fmt.Sscanf(meta["vocab"], "bpe %d", &size); err != nil || size < 256 || size > maxBPEVocab {
			return nil, fmt.Errorf("the checkpoint's BPE vocabulary %q is not one explore can rebuild", meta["vocab"])
		}
		text := shakespeare
		if src := meta["data"]; src != "" && !strings.HasPrefix(src, "tiny Shakespeare") {
			b, err := readFile(src)
			if err != nil {
				return nil, fmt.Errorf("the checkpoint's BPE was learned from %s, which cannot be read to learn it again: %w", src, err)
			}
			text = string(b)
		}
		v, err := bpeVocab(ctx, text, size)
		if err != nil {
			return nil, err
		}
		if v.meta["vocab"] != meta["vocab"] {
			return nil, fmt.Errorf("learning the BPE again from %q gave another vocabulary than the checkpoint's", meta["data"])
		}
		return v, nil
	default:
		return nil, fmt.Errorf("unknown tokenizer %q in the checkpoint", kind)
	}
}

// encode returns the ids of text. A char vocabulary has no id for a character it never saw:
// those characters are left out, and returned in skipped (each once) so the page can say so.
func (v *vocab) encode(text string) (ids []int, skipped []string) {
	if t, ok := v.tok.(idTokens); ok {
		return t.encodeIDs(text)
	}
	ids = v.tok.Encode(text)
	if v.kind != "char" || len(ids) == utf8.RuneCountInString(text) {
		return ids, nil
	}
	ids = ids[:0]
	seen := map[rune]bool{}
	for _, r := range text {
		got := v.tok.Encode(string(r))
		if len(got) == 1 {
			ids = append(ids, got[0])
		} else if !seen[r] {
			seen[r] = true
			skipped = append(skipped, string(r))
		}
	}
	return ids, skipped
}

// piece returns the text of one token for display: its bytes when they are valid UTF-8, else
// each byte written as \xNN (a byte-level BPE token can hold part of a character).
func (v *vocab) piece(id int) string {
	b, err := v.tok.TokenBytes(id)
	if err != nil {
		return fmt.Sprintf("<%d?>", id)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&sb, `\x%02x`, b[0])
			n = 1
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// decode returns the text of ids, with bytes that are not valid UTF-8 replaced by U+FFFD (the
// Run view's text box holds text, not bytes).
func (v *vocab) decode(ids []int) string {
	var b []byte
	for _, id := range ids {
		p, err := v.tok.TokenBytes(id)
		if err == nil {
			b = append(b, p...)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// size is the vocabulary size V.
func (v *vocab) size() int { return v.tok.VocabSize() }

// hfVocab is a model directory's own tokenizer.json (a Llama-family model's, say). Text is
// encoded as the model reads it in use, with the special tokens the tokenizer adds (a BOS).
func hfVocab(dir string) (*vocab, error) {
	t, err := hf.Load(dir)
	if err != nil {
		return nil, err
	}
	return &vocab{kind: "hf", tok: t, meta: map[string]string{"tokenizer": "hf", "vocab": dir}}, nil
}

// idsVocab stands in for the tokenizer of a model directory that has none: the text is its
// token ids, written as numbers ("1 5 9", or "#1 #5 #9" as the pieces show them), and each
// token's piece is its id. Anything that is not an id is left out and reported, as a char
// vocabulary reports the characters it never saw.
func idsVocab(size int) *vocab {
	return &vocab{kind: "ids", tok: idTokens(size), meta: map[string]string{"tokenizer": "ids"}}
}

type idTokens int

// Encode reads the ids in text; words that are not ids in [0, size) are dropped (see encodeIDs).
func (n idTokens) Encode(text string) []int {
	ids, _ := n.encodeIDs(text)
	return ids
}

func (n idTokens) encodeIDs(text string) (ids []int, skipped []string) {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		id, err := strconv.Atoi(strings.TrimPrefix(w, "#"))
		if err != nil || id < 0 || id >= int(n) {
			if !slices.Contains(skipped, w) {
				skipped = append(skipped, w)
			}
			continue
		}
		ids = append(ids, id)
	}
	return ids, skipped
}

func (n idTokens) VocabSize() int { return int(n) }

// TokenBytes writes id as "#id " (the space keeps a decoded text readable as ids again).
func (n idTokens) TokenBytes(id int) ([]byte, error) {
	if id < 0 || id >= int(n) {
		return nil, fmt.Errorf("id %d is outside [0, %d)", id, int(n))
	}
	return fmt.Appendf(nil, "#%d ", id), nil
}
