package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/internal/torchpickle"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// This file finds and opens the weights of a Hugging Face directory, in whichever of the layouts
// found on the Hub it holds, behind one interface that loadHFTensors reads.

// hfStore is a set of named stored tensors: a safetensors file, a PyTorch state dict, or the
// shards of a sharded checkpoint. Names are the stored ones; dtypes are spelled as safetensors
// spells them ("F32", "F16", "BF16", "I64", ...). Dtype and Shape describe a tensor without
// reading its data, so a loader can check a whole file against its config before it allocates.
type hfStore interface {
	Names() []string // sorted
	Has(name string) bool
	Dtype(name string) string // "" for a name the store does not hold
	Shape(name string) []int  // nil for a name the store does not hold
	Float32(name string) (*tensor.Tensor, error)
	Close() error
}

var _ hfStore = (*safetensors.File)(nil)

// The weight files LoadHF looks for, in order of preference: the first one present is read and
// the rest are ignored, as transformers does (it too prefers safetensors when both exist).
const (
	hfSafetensorsIndex = "model.safetensors.index.json"
	hfTorchFile        = "pytorch_model.bin"
	hfTorchIndex       = "pytorch_model.bin.index.json"
)

// hfWeightLayouts lists the weight files in preference order with how to open each.
var hfWeightLayouts = []struct {
	file string
	open func(dir, path string) (hfStore, error)
}{
	{weightsFile, func(_, path string) (hfStore, error) { return openSafetensorsStore(path) }},
	{hfSafetensorsIndex, func(dir, path string) (hfStore, error) { return openHFShards(dir, path, openSafetensorsStore) }},
	{hfTorchFile, func(_, path string) (hfStore, error) { return openTorchStore(path) }},
	{hfTorchIndex, func(dir, path string) (hfStore, error) { return openHFShards(dir, path, openTorchStore) }},
}

// openHFWeights opens the preferred weight file of dir and returns it with its path.
func openHFWeights(dir string) (hfStore, string, error) {
	var names []string
	for _, l := range hfWeightLayouts {
		path := filepath.Join(dir, l.file)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			names = append(names, l.file)
			continue
		} else if err != nil {
			return nil, path, err
		}
		st, err := l.open(dir, path)
		return st, path, err
	}
	return nil, "", fmt.Errorf("%s has no weights: none of %q exists: %w", dir, names, fs.ErrNotExist)
}

func openSafetensorsStore(path string) (hfStore, error) { return safetensors.Open(path) }

// torchStore adapts a PyTorch state dict to hfStore.
type torchStore struct{ *torchpickle.File }

func openTorchStore(path string) (hfStore, error) {
	f, err := torchpickle.Open(path)
	if err != nil {
		return nil, err
	}
	return torchStore{f}, nil
}

// Float32 reads name as a contiguous float32 tensor.
func (s torchStore) Float32(name string) (*tensor.Tensor, error) {
	v, err := s.File.Float32(name)
	if err != nil {
		return nil, err
	}
	return tensor.FromSlice(v, s.Shape(name)...), nil
}

// checkLayout compares what st holds with layout: every spec's tensor must be there in its shape,
// and any other name goes to extra, which returns the error for a tensor that has no place in
// the model (nil for one the caller accepts).
func checkLayout(st hfStore, layout []nn.Spec, extra func(name string) error) []error {
	want := make(map[string]bool, len(layout))
	var errs []error
	for _, s := range layout {
		want[s.Name] = true
		if !st.Has(s.Name) {
			errs = append(errs, fmt.Errorf("missing tensor %q", s.Name))
			continue
		}
		if err := checkStored(st, s.Name, s.Shape); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range st.Names() {
		if !want[name] {
			if err := extra(name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}
