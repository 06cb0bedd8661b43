package main

import (
	"fmt"
	"path/filepath"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

// loadModel loads a model directory with its tokenizer and chat template, viewed in weight
// format f.
func loadModel(dir string, f model.WeightFormat) (*loaded, error) {
	m, err := model.LoadHF(dir)
	if err != nil {
		return nil, err
	}
	if f != model.Float32 {
		if m, err = m.Compact(f); err != nil {
			return nil, err
		}
	}
	enc, err := gpt2.Encoding()
	if err != nil {
		return nil, err
	}
	if enc.VocabSize() > m.Config.VocabSize {
		return nil, fmt.Errorf("%s has no tokenizer.json, and its vocabulary (%d) is smaller than GPT-2's (%d)", dir, m.Config.VocabSize, enc.VocabSize())
	}
	eot := enc.VocabSize() - 1 // <|endoftext|>
	return &loaded{name: filepath.Base(filepath.Clean(dir)), m: m, codec: tokenCodec{enc},
		template: plainTemplate{}, stopIDs: []int{eot}}, nil
}
