package main

// The model the page opens on: a small GPT trained on tiny Shakespeare, shipped inside the
// program so that a newcomer's first page shows a model that has learned something (the page's
// own "trained here" model starts from random weights, one click away, for comparison).

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tokenizer"
)

// pretrained.safetensors holds the weights as F16 (half the bytes of float32; the loss moves by
// less than 0.01), with the model's configuration, its character vocabulary and how it was
// trained in the metadata. `go test ./examples/explore -run TestPretrainedRegenerate -pretrain`
// trains it again (about two minutes on two cores) with the page's own training code.
//
//go:embed pretrained.safetensors
var pretrainedFile []byte

// The registry's name for the shipped model.
const pretrainedModel = "shakespeare"

// pretrainedInfo is the metadata of a pretrained file.
type pretrainedInfo struct {
	cfg     model.Config
	step    int
	valLoss float64
}

// loadPretrained reads a GPT and its character vocabulary from a safetensors file written by
// writePretrained. The file is the program's own, but it is checked as any outside file is: a
// bad one gives an error, never a panic.
func loadPretrained(file []byte) (*model.GPT, *vocab, pretrainedInfo, error) {
	var info pretrainedInfo
	f, err := safetensors.Read(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		return nil, nil, info, fmt.Errorf("pretrained model: %w", err)
	}
	meta := f.Metadata()
	if err := json.Unmarshal([]byte(meta["config"]), &info.cfg); err != nil {
		return nil, nil, info, fmt.Errorf("pretrained model: config: %w", err)
	}
	if info.step, err = strconv.Atoi(meta["step"]); err != nil {
		return nil, nil, info, fmt.Errorf("pretrained model: step: %w", err)
	}
	if info.valLoss, err = strconv.ParseFloat(meta["val_loss"], 64); err != nil || math.IsNaN(info.valLoss) {
		return nil, nil, info, fmt.Errorf("pretrained model: val_loss %q", meta["val_loss"])
	}
	c, err := tokenizer.CharFromVocab(meta["vocab"])
	if err != nil {
		return nil, nil, info, fmt.Errorf("pretrained model: %w", err)
	}
	voc := &vocab{kind: "char", tok: c, meta: map[string]string{"tokenizer": "char", "vocab": c.Vocab()}}
	if voc.size() != info.cfg.VocabSize {
		return nil, nil, info, fmt.Errorf("pretrained model: %d characters for a vocabulary of %d", voc.size(), info.cfg.VocabSize)
	}
	m, err := model.New(info.cfg, 1)
	if err != nil {
		return nil, nil, info, fmt.Errorf("pretrained model: %w", err)
	}
	for _, p := range m.Parameters() {
		t, err := f.Float32(p.Name())
		if err != nil {
			return nil, nil, info, fmt.Errorf("pretrained model: %w", err)
		}
		if !slices.Equal(t.Shape(), p.Value.Shape()) {
			return nil, nil, info, fmt.Errorf("pretrained model: %s has shape %v, the model wants %v", p.Name(), t.Shape(), p.Value.Shape())
		}
		copy(p.Value.Data(), t.Contiguous().Data())
	}
	return m, voc, info, nil
}
