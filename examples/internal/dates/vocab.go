package dates

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/goformer/goformer/internal/atomicfile"
)

// Vocab is a word-level vocabulary, shared by sources and targets: text splits into tokens as
// Split cuts it (runs of letters, single digits, single punctuation marks), and each token has
// an id. The task's own vocabulary (NewVocab) puts the special tokens first (pad, BOS, EOS),
// then digits, punctuation and words.
type Vocab struct {
	tokens  []string
	ids     map[string]int
	special map[int]bool // ids that text never encodes to
}

// The special tokens of NewVocab's vocabulary.
const (
	PadID = 0
	BosID = 1
	EosID = 2
)

// NewVocab returns the task's vocabulary: 34 tokens.
func NewVocab() *Vocab {
	toks := []string{"<pad>", "<s>", "</s>"}
	for c := '0'; c <= '9'; c++ {
		toks = append(toks, string(c))
	}
	toks = append(toks, "-", "/", ",", "the", "of", "st", "nd", "rd", "th")
	toks = append(toks, monthNames...)
	v, err := VocabFrom(toks, PadID, BosID, EosID)
	if err != nil {
		panic(err) // a fixed list without repeats
	}
	return v
}

// VocabFrom returns the vocabulary whose token i is tokens[i]; specials are the ids (padding,
// BOS, EOS) that text never encodes to. Tokens must be distinct and non-empty.
func VocabFrom(tokens []string, specials ...int) (*Vocab, error) {
	if len(tokens) == 0 {
		return nil, errors.New("dates: an empty vocabulary")
	}
	v := &Vocab{tokens: tokens, ids: make(map[string]int, len(tokens)), special: map[int]bool{}}
	for i, t := range tokens {
		if t == "" {
			return nil, fmt.Errorf("dates: token %d of the vocabulary is empty", i)
		}
		if j, ok := v.ids[t]; ok {
			return nil, fmt.Errorf("dates: tokens %d and %d of the vocabulary are both %q", j, i, t)
		}
		v.ids[t] = i
	}
	for _, id := range specials {
		if id < 0 || id >= len(tokens) {
			return nil, fmt.Errorf("dates: special token id %d is outside the vocabulary [0, %d)", id, len(tokens))
		}
		v.special[id] = true
	}
	return v, nil
}

// Size returns the number of tokens.
func (v *Vocab) Size() int { return len(v.tokens) }

// Token returns the text of token id, or "?" for an id outside the vocabulary.
func (v *Vocab) Token(id int) string {
	if id < 0 || id >= len(v.tokens) {
		return "?"
	}
	return v.tokens[id]
}

// Tokens returns the texts of ids.
func (v *Vocab) Tokens(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = v.Token(id)
	}
	return out
}

// Encode returns the ids of text, or an error naming a token outside the vocabulary.
func (v *Vocab) Encode(text string) ([]int, error) {
	var ids []int
	for _, t := range Split(text) {
		id, ok := v.ids[t]
		if !ok || v.special[id] {
			return nil, fmt.Errorf("unknown token %q in %q (%s)", clip(t, 20), clip(text, 60), v.hint())
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no tokens in %q", clip(text, 60))
	}
	return ids, nil
}

// hint lists the vocabulary for an error message, when it is short enough to read.
func (v *Vocab) hint() string {
	if len(v.tokens) > 60 {
		return fmt.Sprintf("the vocabulary has %d tokens", len(v.tokens))
	}
	var words []string
	for id, t := range v.tokens {
		if !v.special[id] {
			words = append(words, t)
		}
	}
	return "the vocabulary is " + strings.Join(words, " ")
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Decode joins tokens back into text: digits, "-" and "/" stick together, "," and ordinal
// suffixes stick to what precedes them, words are separated by spaces.
func (v *Vocab) Decode(ids []int) string {
	var b strings.Builder
	prevTight := false
	for i, id := range ids {
		t := v.Token(id)
		tight := len(t) == 1 && strings.ContainsAny(t, "0123456789-/")
		attach := t == "," || t == "st" || t == "nd" || t == "rd" || t == "th"
		if i > 0 && !(tight && prevTight) && !attach {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		prevTight = tight
	}
	return b.String()
}

// VocabFile is the name of the file SaveVocab writes into a model's directory, beside
// model.SaveTransformer's config.json and model.safetensors.
const VocabFile = "vocab.json"

// maxVocabFile bounds what LoadVocab reads.
const maxVocabFile = 4 << 20

// vocabJSON is the file's form: {"tokens": ["<pad>", "<s>", ...]}, token i at index i.
type vocabJSON struct {
	Tokens []string `json:"tokens"`
}

// SaveVocab writes v into dir/vocab.json, atomically.
func SaveVocab(dir string, v *Vocab) error {
	data, err := json.MarshalIndent(vocabJSON{Tokens: v.tokens}, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, VocabFile), func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// LoadVocab reads dir/vocab.json; specials are the model's padding, BOS and EOS ids. A missing
// file is an error that matches os.ErrNotExist.
func LoadVocab(dir string, specials ...int) (*Vocab, error) {
	f, err := os.Open(filepath.Join(dir, VocabFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxVocabFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxVocabFile {
		return nil, fmt.Errorf("dates: %s is over %d bytes", f.Name(), maxVocabFile)
	}
	var vj vocabJSON
	if err := json.Unmarshal(data, &vj); err != nil {
		return nil, fmt.Errorf("dates: %s: %w", f.Name(), err)
	}
	v, err := VocabFrom(vj.Tokens, specials...)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, f.Name())
	}
	return v, nil
}
