package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// FuzzCheckpointJSON writes arbitrary bytes as the checkpoint.json of an otherwise valid
// checkpoint (with AdamW state): Load must return an error or a checkpoint whose model builds and
// restores, never panic.
func FuzzCheckpointJSON(f *testing.F) {
	m, err := model.New(tinyConfig(), 1)
	if err != nil {
		f.Fatal(err)
	}
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{})
	base := f.TempDir()
	if err := Save(base, m, State{Step: 3, Optimizer: opt}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(base, File))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"goformer-checkpoint","version":2,"kind":"gpt","optimizer":{"kind":"sgd","hyper":{"lr":1},"slots":["momentum"]}}`))
	f.Add([]byte(`{"format":"goformer-checkpoint","version":2,"kind":"gpt","config":{"NLayer":1099511627776}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(base, File), data, 0o644); err != nil {
			t.Fatal(err)
		}
		ck, err := Load(base)
		if err != nil {
			return
		}
		m, err := ck.GPT()
		if err != nil {
			t.Fatalf("Load accepted a checkpoint whose GPT does not build: %v", err)
		}
		_ = ck.Restore(m, nil)
		_ = ck.Restore(m, optim.NewAdamW(m.Parameters(), optim.AdamWConfig{}))
		_ = ck.Restore(m, optim.NewSGD(m.Parameters(), optim.SGDConfig{}))
		_, _ = ck.Optimizer()
	})
}
