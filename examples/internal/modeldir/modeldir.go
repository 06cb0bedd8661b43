// Package modeldir opens a model directory as the Hub lays it out, with everything a program
// that talks to the model needs beside the weights: its tokenizer (tokenizer.json, or GPT-2's
// own vocabulary for a GPT-2 directory without one), its chat template (tokenizer_config.json,
// or a plain default) and the tokens that end a turn. examples/chat and examples/serve share it.
package modeldir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/gpt2"
	"github.com/goformer/goformer/tokenizer/hf"
)

// Model is an opened model directory.
type Model struct {
	Name     string // the directory's base name
	GPT      *model.GPT
	Text     Text
	Template Template
	// Stop holds the ids that end an answer: the eos tokens of config.json,
	// generation_config.json and tokenizer_config.json.
	Stop []int
}

// Text is a model's tokenizer, as chat and serving use it.
type Text interface {
	// Encode turns text into ids; addSpecial adds what the tokenizer adds around a sequence
	// (a BOS token, say). A rendered chat template writes its own, so it is encoded without.
	Encode(text string, addSpecial bool) []int
	// Stream returns a decoder that turns ids into text as they arrive, never splitting a
	// character, and leaving special tokens out.
	Stream() Stream
	VocabSize() int
}

// Stream is a streaming decoder.
type Stream interface {
	Add(id int) (string, error)
	Flush() string
}

// Template renders a conversation into a prompt.
type Template interface {
	Render(msgs []hf.Message, addGenerationPrompt bool) (string, error)
}

// Open loads dir's model, viewed with weight format f, and what goes with it.
func Open(dir string, f model.WeightFormat) (*Model, error) { return open(dir, f, true) }

// OpenIDs is Open for a program that can also work in token ids alone (examples/gpt2's -ids):
// a directory without tokenizer.json whose vocabulary is too small for GPT-2's tokenizer (a
// test fixture, say) opens with Text nil instead of failing. Stop still holds its eos ids.
func OpenIDs(dir string, f model.WeightFormat) (*Model, error) { return open(dir, f, false) }

func open(dir string, f model.WeightFormat, needText bool) (*Model, error) {
	m, err := model.LoadHF(dir)
	if err != nil {
		return nil, err
	}
	if f != model.Float32 {
		if m, err = m.Compact(f); err != nil {
			return nil, err
		}
	}
	out := &Model{Name: filepath.Base(filepath.Clean(dir)), GPT: m, Template: Plain{}}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		tok, err := hf.Load(dir)
		if err != nil {
			return nil, err
		}
		out.Text = hfText{tok}
		c, err := tok.ChatTemplate()
		if err != nil && !errors.Is(err, hf.ErrNoChatTemplate) {
			return nil, fmt.Errorf("%s: %w", dir, err) // a template that is there but unreadable is no reason to talk in another format
		}
		if c != nil {
			out.Template = c
			if id, ok := tok.TokenID(c.EOS); ok && c.EOS != "" {
				out.Stop = append(out.Stop, id)
			}
		}
	} else if needText || m.Config.VocabSize >= gpt2.EndOfTextID+1 {
		enc, err := gpt2.Encoding()
		if err != nil {
			return nil, err
		}
		out.Text = bpeText{enc}
		out.Stop = append(out.Stop, enc.VocabSize()-1) // <|endoftext|>
	}
	if out.Text != nil && out.Text.VocabSize() > m.Config.VocabSize {
		return nil, fmt.Errorf("%s: the tokenizer has %d tokens, more than the model's %d", dir, out.Text.VocabSize(), m.Config.VocabSize)
	}
	for _, name := range []string{"config.json", "generation_config.json"} {
		ids, err := eosIDs(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if id >= 0 && id < m.Config.VocabSize && !slices.Contains(out.Stop, id) {
				out.Stop = append(out.Stop, id)
			}
		}
	}
	return out, nil
}

// eosIDs reads eos_token_id (a number or a list) from a JSON file; a missing file has none.
func eosIDs(path string) ([]int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(cfg.EOS) == 0 || string(cfg.EOS) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(cfg.EOS, &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(cfg.EOS, &many); err != nil {
		return nil, fmt.Errorf("%s: eos_token_id must be a number or a list of numbers", path)
	}
	return many, nil
}

// Plain is the chat template of a model directory that brings none (a GPT-2): each message on
// its own line as "role: content", then "assistant:" to prompt the answer. A model trained on no
// chat format continues this like any text, which is all such a model can do.
type Plain struct{}

// Render writes msgs in the plain format.
func (Plain) Render(msgs []hf.Message, addGenerationPrompt bool) (string, error) {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	if addGenerationPrompt {
		b.WriteString("assistant:")
	}
	return b.String(), nil
}

// hfText is a tokenizer.json tokenizer.
type hfText struct{ t *hf.Tokenizer }

func (h hfText) Encode(text string, addSpecial bool) []int { return h.t.EncodeWith(text, addSpecial) }
func (h hfText) Stream() Stream                            { return h.t.NewStreamDecoder(true) }
func (h hfText) VocabSize() int                            { return h.t.VocabSize() }

// TokenText wraps one of the library's own tokenizers (BPE, Char), which add no special tokens.
func TokenText(t interface {
	tokenizer.Tokenizer
	tokenizer.TokenByter
}) Text {
	return bpeText{t}
}

type bpeText struct {
	t interface {
		tokenizer.Tokenizer
		tokenizer.TokenByter
	}
}

func (b bpeText) Encode(text string, _ bool) []int { return b.t.Encode(text) }
func (b bpeText) Stream() Stream                   { return tokenizer.NewStreamDecoder(b.t) }
func (b bpeText) VocabSize() int                   { return b.t.VocabSize() }
