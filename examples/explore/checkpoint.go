package main

// Every checkpoint call of the explorer is in this file.

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// saveCheckpoint writes the page's training run to dir, in the layout examples/shakespeare writes
// (so its -resume and the explorer's -ckpt both read it). It refuses weights that are not all
// finite: a save replaces the checkpoint in dir, and a good checkpoint must never be replaced by a
// broken model. The save itself is atomic (checkpoint.Save): a failed one leaves the previous
// checkpoint as it was.
func saveCheckpoint(dir string, m *model.GPT, opt *optim.AdamW, step int, voc *vocab, data string, batches *rand.PCG) error {
	for _, p := range m.Parameters() {
		for i, x := range p.Value.Data() {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("not saving: %s[%d] is %v (the checkpoint in %s is left as it was)", p.Name(), i, x, dir)
			}
		}
	}
	meta := maps.Clone(voc.meta)
	meta["data"] = data
	meta["rng"] = "pcg"
	meta["saved_by"] = "examples/explore"
	st := checkpoint.State{Step: step, Optimizer: opt, Meta: meta}
	if batches != nil {
		st.RNGs = map[string]checkpoint.RNGState{"data": batches}
	}
	return checkpoint.Save(dir, m, st)
}

// loadCheckpoint reads a checkpoint that examples/shakespeare or the explorer saved: the model
// and the tokenizer it was trained with.
func loadCheckpoint(ctx context.Context, dir string) (*model.GPT, *vocab, int, error) {
	ck, err := checkpoint.Load(dir)
	if err != nil {
		return nil, nil, 0, err
	}
	voc, err := vocabFromMeta(ctx, ck.Meta, os.ReadFile)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", dir, err)
	}
	m, err := ck.GPT()
	if err != nil {
		return nil, nil, 0, err
	}
	if voc.size() != m.Config.VocabSize {
		return nil, nil, 0, fmt.Errorf("%s: the tokenizer has %d tokens, the model %d", dir, voc.size(), m.Config.VocabSize)
	}
	return m, voc, ck.Step, nil
}

// loadHF reads a Hugging Face model directory: a GPT-2 or a Llama-family decoder (Llama,
// SmolLM, Mistral, Qwen2, Qwen3). Its tokens come from its own tokenizer.json when it has one;
// a GPT-2 without one uses GPT-2's tokenizer, and any other model without one is run on token
// ids typed as numbers (idsVocab): the page cannot guess its vocabulary.
func loadHF(dir string) (*model.GPT, *vocab, error) {
	m, err := model.LoadHF(dir)
	if err != nil {
		return nil, nil, err
	}
	var voc *vocab
	switch _, statErr := os.Stat(filepath.Join(dir, "tokenizer.json")); {
	case statErr == nil:
		if voc, err = hfVocab(dir); err != nil {
			return nil, nil, err
		}
	case llamaFamily(m.Config):
		voc = idsVocab(m.Config.VocabSize)
	default:
		if voc, err = gpt2Vocab(); err != nil {
			return nil, nil, err
		}
	}
	if m.Config.VocabSize < voc.size() {
		return nil, nil, fmt.Errorf("%s: vocabulary of %d tokens, fewer than its tokenizer's %d", dir, m.Config.VocabSize, voc.size())
	}
	return m, voc, nil
}

// llamaFamily says whether c is a Llama-family decoder (rotary positions, and with them
// RMSNorm, SwiGLU and perhaps grouped KV heads) rather than a GPT-2.
func llamaFamily(c model.Config) bool { return c.Positions == model.PositionsRotary }
