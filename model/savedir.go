package model

import (
	"io"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/internal/atomicfile"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// The layout Hugging Face's save_pretrained writes, which SaveHF and SaveTransformer both use: a
// directory holding config.json and model.safetensors.
const (
	configFile  = "config.json"
	weightsFile = "model.safetensors"
)

// saveDir writes tensors (as model.safetensors, F32, metadata {"format": "pt"}) and cfgJSON (as
// config.json) into dir, creating it if needed and leaving other files alone. Both files are
// written under temporary names and synced before either is renamed into place, the weights
// first, so that an error leaves any previous pair intact and a config.json always describes
// weights at least as new as itself.
func saveDir(dir string, tensors map[string]*tensor.Tensor, cfgJSON []byte) error {
	return saveFiles(dir, weightsFile, tensors, configFile, cfgJSON)
}

// saveFiles is saveDir with other names for the two files (PEFT's adapter files).
func saveFiles(dir, weightsFile string, tensors map[string]*tensor.Tensor, configFile string, cfgJSON []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	weightsTmp, err := atomicfile.WriteTemp(dir, "."+weightsFile+".tmp*", func(w io.Writer) error {
		return safetensors.Write(w, tensors, map[string]string{"format": "pt"})
	})
	if err != nil {
		return err
	}
	cfgTmp, err := atomicfile.WriteTemp(dir, "."+configFile+".tmp*", func(w io.Writer) error {
		_, err := w.Write(cfgJSON)
		return err
	})
	if err != nil {
		os.Remove(weightsTmp)
		return err
	}
	if err := atomicfile.Commit(weightsTmp, filepath.Join(dir, weightsFile)); err != nil {
		os.Remove(cfgTmp)
		return err
	}
	return atomicfile.Commit(cfgTmp, filepath.Join(dir, configFile))
}
