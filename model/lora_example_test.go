package model_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// Fine-tuning a Llama-family model with LoRA: adapters of rank 2 on the query and value
// projections train while every base weight stays frozen; Merge folds them in.
func ExampleGPT_WithLoRA() {
	base, err := model.LoadHF(filepath.Join("testdata", "hf-llama-variants", "qwen2"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := base.WithLoRA(model.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj"}, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for _, p := range m.Parameters() {
		n += p.Value.Size()
	}
	fmt.Println("trainable:", len(m.Parameters()), "matrices,", n, "numbers") // 2 layers × (2·(32+32) + 2·(32+16))
	fmt.Println("first:", m.Parameters()[0].Name(), m.Parameters()[0].Shape())

	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2})
	x, y := []int{30, 29, 28, 27, 26, 25}, []int{29, 28, 27, 26, 25, 24} // count down instead of up
	for range 30 {
		loss, err := m.Loss(x, y, 1, 6)
		if err != nil {
			log.Fatal(err)
		}
		loss.Backward()
		opt.Step()
		opt.ZeroGrad()
	}
	before, _ := base.Frozen().Loss(x, y, 1, 6)
	after, _ := m.Frozen().Loss(x, y, 1, 6)
	fmt.Println("loss falls:", after.Item() < before.Item()/2)
	merged, err := m.Merge()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("merged parameters:", len(merged.Parameters()) == len(base.Parameters()))
	// Output:
	// trainable: 8 matrices, 448 numbers
	// first: model.layers.0.self_attn.q_proj.lora_A.weight [2 32]
	// loss falls: true
	// merged parameters: true
}

// Adapters travel alone: SaveLoRA writes them in PEFT's layout (a few kilobytes here, where the
// model is the whole file), and LoadLoRA puts them back on the same base.
func ExampleSaveLoRA() {
	base, err := model.LoadHF(filepath.Join("testdata", "hf-llama-variants", "qwen2"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := base.WithLoRA(model.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj"}, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range m.Parameters() { // as if trained: B leaves zero
		for i := range p.Value.Data() {
			p.Value.Data()[i] = 0.01 * float32(i%7)
		}
	}
	dir, err := os.MkdirTemp("", "adapters")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := model.SaveLoRA(m, dir); err != nil {
		log.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	back, err := model.LoadLoRA(base, dir)
	if err != nil {
		log.Fatal(err)
	}
	ids := []int{30, 29, 28, 27}
	want, _ := m.Frozen().Forward(ids, 1, 4)
	got, _ := back.Frozen().Forward(ids, 1, 4)
	fmt.Println("same logits:", slices.Equal(want.Value.Values(), got.Value.Values()))
	fmt.Println("rank", back.LoRA().Rank, "on", back.LoRA().Targets)
	// Output:
	// adapter_config.json
	// adapter_model.safetensors
	// same logits: true
	// rank 2 on [q_proj v_proj]
}
