package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/gpt2"
	"github.com/goformer/goformer/tokenizer/hf"
)

// This file holds what fine-tuning a Hugging Face directory (-init-from) adds to the example:
// the directory's own tokenizer (-tokenizer model), LoRA adapters (-lora-rank) and the files an
// export carries beside the weights.

// dirVocabulary returns the tokenizer of model directory dir, as examples/internal/modeldir
// picks it: tokenizer.json where there is one (the Llama family's), GPT-2's own otherwise. Its
// id names it for checkpoints: a digest of tokenizer.json, or "gpt2" (the id of -tokenizer
// gpt2, which is the same tokenizer).
func dirVocabulary(dir string) (vocabulary, string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if errors.Is(err, os.ErrNotExist) {
		enc, err := gpt2.Encoding()
		return enc, "gpt2", err
	}
	if err != nil {
		return nil, "", err
	}
	tok, err := hf.Load(dir)
	if err != nil {
		return nil, "", err
	}
	return hfVocabulary{tok}, fmt.Sprintf("tokenizer.json %x", sha256.Sum256(data)), nil
}

// hfVocabulary is a tokenizer.json tokenizer for training text: Encode adds no special tokens
// (no BOS in the middle of a corpus cut into windows).
type hfVocabulary struct{ *hf.Tokenizer }

func (h hfVocabulary) Encode(text string) []int { return h.EncodeWith(text, false) }

// loraConfig returns the adapters that -lora-rank, -lora-alpha and -lora-targets ask for.
func (o *options) loraConfig() model.LoRAConfig {
	c := model.LoRAConfig{Rank: o.loraRank, Alpha: float32(o.loraAlpha), Seed: o.seed}
	if o.loraTargets != "" {
		for _, t := range strings.Split(o.loraTargets, ",") {
			if t = strings.TrimSpace(t); t != "" {
				c.Targets = append(c.Targets, t)
			}
		}
	}
	return c
}

// describeLoRA says how much of the model the adapters train.
func describeLoRA(w io.Writer, m *model.GPT) {
	c := m.LoRA()
	n := 0
	for _, p := range m.Parameters() {
		n += p.Value.Size()
	}
	fmt.Fprintf(w, "LoRA: rank %d, alpha %g on %d layers: %d trainable parameters (the adapters' A and B) of %d, the base frozen (checkpoints hold it and the adapters; -export-hf writes the merged model)\n",
		c.Rank, c.Alpha, len(m.Parameters())/2, n, m.NumParams())
}

// checkResumedAdapters checks that -lora-rank, -lora-alpha and -lora-targets describe the
// adapters of the checkpoint a run resumes, and that without -lora-rank it has none: resuming
// continues the run the checkpoint holds, and flags that describe another run are a mistake best
// caught before training.
func (o *options) checkResumedAdapters(ck *checkpoint.Checkpoint) error {
	saved := ck.LoRA()
	switch {
	case saved == nil && o.loraRank == 0:
		return nil
	case saved == nil:
		return fmt.Errorf("the checkpoint in %s holds a model trained whole, without LoRA adapters: resume it without -lora-rank", o.out)
	case !saved.SameAdapters(o.loraConfig()):
		return fmt.Errorf("the checkpoint in %s trains LoRA adapters with %s: pass the same flags to resume it", o.out, loraFlags(*saved))
	}
	return nil
}

// loraFlags returns the flags that ask for the adapters c.
func loraFlags(c model.LoRAConfig) string {
	s := fmt.Sprintf("-lora-rank %d -lora-alpha %g", c.Rank, c.Alpha)
	if c.Targets != nil {
		s += " -lora-targets " + strings.Join(c.Targets, ",")
	}
	return s
}

// hubFiles are the files of a Hub directory besides config.json and the weights that a program
// using the model reads: the tokenizer, the chat template, the generation defaults.
var hubFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "vocab.json", "merges.txt"}

// copyHubFiles copies those of hubFiles that src holds into dst, so that an exported model
// generates (examples/gpt2, examples/chat, transformers) as the one it was fine-tuned from.
func copyHubFiles(src, dst string) error {
	for _, name := range hubFiles {
		data, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// trained, when not nil, receives the model once training is done (its adapters unmerged):
// how the tests look at what the run exported.
var trained func(m *model.GPT)
