package model_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
)

// A tiny GPT: a forward pass over a batch of two sequences of four tokens gives one row of
// logits per position.
func ExampleNew() {
	m, err := model.New(model.Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8}, 1)
	if err != nil {
		log.Fatal(err)
	}
	logits, err := m.Forward([]int{1, 2, 3, 4, 5, 6, 7, 8}, 2, 4)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logits:", logits.Shape())    // (B, T, V)
	fmt.Println("parameters:", m.NumParams()) // V·C + T·C + L·(12C² + 13C) + 2C = 88 + 64 + 1744 + 16
	// Output:
	// logits: [2 4 11]
	// parameters: 1912
}

// Greedy decoding (temperature 0) of ten tokens; the prompt is not part of the result.
func ExampleGPT_GenerateAll() {
	m, err := model.New(model.Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8}, 1)
	if err != nil {
		log.Fatal(err)
	}
	toks, err := m.GenerateAll(context.Background(), []int{1, 2, 3}, model.Sampling{MaxNew: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(toks), "new tokens")
	// Output: 10 new tokens
}

// Streaming: each token arrives as soon as it is sampled; an error (a bad prompt, a cancelled
// context) arrives in the same loop.
func ExampleGPT_Generate() {
	m, err := model.New(model.Config{VocabSize: 65, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 16}, 1)
	if err != nil {
		log.Fatal(err)
	}
	s := model.Sampling{MaxNew: 20, Temperature: 0.8, TopK: 10, TopP: 0.95, Seed: 42}
	n := 0
	for tok, err := range m.Generate(context.Background(), []int{0, 1, 2}, s) {
		if err != nil {
			log.Fatal(err)
		}
		_ = tok // print it, decode it, ...
		n++
	}
	fmt.Println(n, "tokens")

	_, err = m.GenerateAll(context.Background(), []int{99}, s)
	fmt.Println(err)
	// Output:
	// 20 tokens
	// model: token id 99 at position 0 is outside the vocabulary [0, 65)
}

// Export to a Hugging Face GPT-2 directory (which transformers' from_pretrained reads) and load
// it back.
func ExampleSaveHF() {
	dir, err := os.MkdirTemp("", "gpt2")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	m, err := model.New(model.Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8, GELUTanh: true}, 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := model.SaveHF(m, dir); err != nil {
		log.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	back, err := model.LoadHF(dir)
	if err != nil {
		log.Fatal(err)
	}
	c := back.Config
	fmt.Printf("%d layers of %d heads, width %d, vocabulary %d, context %d, eps %g\n", c.NLayer, c.NHead, c.NEmbd, c.VocabSize, c.BlockSize, c.LayerNormEps)
	// Output:
	// config.json
	// model.safetensors
	// 2 layers of 2 heads, width 8, vocabulary 11, context 8, eps 1e-05
}

// LoadHF reports what is wrong with a directory instead of panicking.
func ExampleLoadHF() {
	_, err := model.LoadHF(filepath.Join(os.TempDir(), "no-such-gpt2"))
	fmt.Println(err != nil)
	// Output: true
}

// NewLikePyTorch starts from the weights PyTorch draws for nanoGPT's model after
// torch.manual_seed(1337). The values printed here are the ones PyTorch prints for
// model.transformer.wte.weight[0, :3] and the last block's mlp.c_proj.weight[0, :2].
func ExampleNewLikePyTorch() {
	m, err := model.NewLikePyTorch(model.Config{VocabSize: 37, BlockSize: 10, NLayer: 2, NHead: 2, NEmbd: 24}, 1337)
	if err != nil {
		log.Fatal(err)
	}
	wte := m.WTE.Weight.Value
	fmt.Printf("%.8f %.8f %.8f\n", wte.At(0, 0), wte.At(0, 1), wte.At(0, 2))
	proj := m.H[1].FF.(*nn.MLP).Down.Weight.Value
	fmt.Printf("%.8f %.8f\n", proj.At(0, 0), proj.At(0, 1))
	// Output:
	// 0.01086164 -0.01072949 -0.03186847
	// 0.00427863 -0.00555445
}

// Frozen gives a view of the model for evaluation: its parameters are constants sharing the
// model's values, so a loss computed on it records no graph and can run in another goroutine
// while a different model trains. It has no dropout.
func ExampleGPT_Frozen() {
	m, err := model.New(model.Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8}, 1)
	if err != nil {
		log.Fatal(err)
	}
	frozen := m.Frozen()
	loss, err := frozen.Loss([]int{1, 2, 3, 4}, []int{2, 3, 4, 5}, 1, 4)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("records a graph:", loss.RequiresGrad())
	// Output:
	// records a graph: false
}

// An int8 view of a model, for inference: its weight matrices take about a quarter of float32's
// memory (once the float32 model is dropped), and its logits stay close to float32's.
func ExampleGPT_Compact() {
	m, err := model.New(model.Config{VocabSize: 65, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 32}, 1)
	if err != nil {
		log.Fatal(err)
	}
	v, err := m.Compact(model.Int8)
	if err != nil {
		log.Fatal(err)
	}
	ids := []int{1, 2, 3, 4}
	want, err := m.Frozen().Forward(ids, 1, len(ids))
	if err != nil {
		log.Fatal(err)
	}
	got, err := v.Forward(ids, 1, len(ids))
	if err != nil {
		log.Fatal(err)
	}
	worst := 0.0
	for i, x := range got.Value.Values() {
		worst = math.Max(worst, math.Abs(float64(x-want.Value.Values()[i])))
	}
	toks, err := v.GenerateAll(context.Background(), []int{1, 2, 3}, model.Sampling{MaxNew: 5})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("weights:", v.WeightFormat())
	fmt.Println("logits within 0.01 of float32's:", worst < 0.01)
	fmt.Println(len(toks), "new tokens")
	// Output:
	// weights: int8
	// logits within 0.01 of float32's: true
	// 5 new tokens
}

// A Llama-family model from a Hugging Face directory (here a tiny Qwen2 trained to count, in the
// package's testdata): LoadHF reads its config.json, and the model is the same GPT with the
// family's choices.
func ExampleLoadHF_llama() {
	m, err := model.LoadHF(filepath.Join("testdata", "hf-llama-variants", "qwen2"))
	if err != nil {
		log.Fatal(err)
	}
	c := m.Config
	fmt.Printf("%s norm, %s positions (theta %g), %s feed-forward %d wide, %d query heads sharing %d KV heads\n",
		c.Norm, c.Positions, c.RopeTheta, c.FeedForward, c.FFHidden, c.NHead, c.NKVHead)
	next, err := m.GenerateAll(context.Background(), []int{20, 21, 22, 23}, model.Sampling{MaxNew: 6})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(next)
	// Output:
	// rmsnorm norm, rotary positions (theta 1e+06), swiglu feed-forward 64 wide, 4 query heads sharing 2 KV heads
	// [24 25 26 27 28 29]
}
