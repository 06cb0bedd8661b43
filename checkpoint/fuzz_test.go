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
	fuzzCheckpointJSON(f, m,
		`{"format":"goformer-checkpoint","version":2,"kind":"gpt","optimizer":{"kind":"sgd","hyper":{"lr":1},"slots":["momentum"]}}`,
		`{"format":"goformer-checkpoint","version":2,"kind":"gpt","config":{"NLayer":1099511627776}}`)
}

// FuzzLoRACheckpointJSON is FuzzCheckpointJSON with the checkpoint of a model with LoRA adapters,
// whose tensor file holds the base weights and the adapters.
func FuzzLoRACheckpointJSON(f *testing.F) {
	m, err := model.New(tinyConfig(), 1)
	if err != nil {
		f.Fatal(err)
	}
	l, err := m.WithLoRA(model.LoRAConfig{Rank: 2, Targets: []string{"c_attn", "c_fc"}})
	if err != nil {
		f.Fatal(err)
	}
	fuzzCheckpointJSON(f, l,
		`{"format":"goformer-checkpoint","version":2,"kind":"gpt","lora":{"rank":1099511627776,"alpha":1e30,"targets":null}}`,
		`{"format":"goformer-checkpoint","version":2,"kind":"transformer","lora":{"rank":2,"targets":["c_attn"]}}`)
}

// fuzzCheckpointJSON saves m with AdamW state at step 3 and fuzzes its checkpoint.json, seeded
// with the good one and seeds.
func fuzzCheckpointJSON(f *testing.F, m *model.GPT, seeds ...string) {
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
	for _, s := range seeds {
		f.Add([]byte(s))
	}
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
