package main

// Every checkpoint call of the explorer is in this file.

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"

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

// loadHF reads a Hugging Face GPT-2 directory, to run with GPT-2's tokenizer.
func loadHF(dir string) (*model.GPT, *vocab, error) {
	m, err := model.LoadHF(dir)
	if err != nil {
		return nil, nil, err
	}
	voc, err := gpt2Vocab()
	if err != nil {
		return nil, nil, err
	}
	if m.Config.VocabSize < voc.size() {
		return nil, nil, fmt.Errorf("%s: vocabulary of %d tokens, fewer than GPT-2's %d", dir, m.Config.VocabSize, voc.size())
	}
	return m, voc, nil
}
