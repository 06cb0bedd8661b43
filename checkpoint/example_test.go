package checkpoint_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

// Train a tiny GPT for a few steps, save a checkpoint, and resume in a fresh model and
// optimizer: the resumed run ends with the very weights of a run that never stopped.
func Example() {
	cfg := model.Config{VocabSize: 11, BlockSize: 8, NLayer: 1, NHead: 2, NEmbd: 8, Dropout: 0.1}
	newOpt := func(m *model.GPT) optim.Optimizer {
		return optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2, WeightDecay: 0.1})
	}
	train := func(m *model.GPT, opt optim.Optimizer, data *rand.PCG, from, to int) {
		r := rand.New(data)
		for range to - from {
			ids, targets := make([]int, 8), make([]int, 8)
			for i := range ids {
				ids[i] = r.IntN(cfg.VocabSize)
				targets[i] = (ids[i] + 1) % cfg.VocabSize
			}
			loss, err := m.Loss(ids, targets, 1, 8)
			if err != nil {
				log.Fatal(err)
			}
			loss.Backward()
			opt.Step()
			opt.ZeroGrad()
		}
	}
	dir, err := os.MkdirTemp("", "ckpt")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Ten steps straight through.
	straight, _ := model.New(cfg, 1)
	train(straight, newOpt(straight), rand.NewPCG(1, 2), 0, 10)

	// Five steps, a checkpoint...
	m, _ := model.New(cfg, 1)
	opt, data := newOpt(m), rand.NewPCG(1, 2)
	train(m, opt, data, 0, 5)
	err = checkpoint.Save(dir, m, checkpoint.State{Step: 5, Optimizer: opt, RNGs: map[string]checkpoint.RNGState{"data": data}})
	if err != nil {
		log.Fatal(err)
	}

	// ... and, as in a new process, five more from it.
	ck, err := checkpoint.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	resumed, err := ck.GPT()
	if err != nil {
		log.Fatal(err)
	}
	opt = newOpt(resumed)
	data = rand.NewPCG(0, 0)
	if err := ck.Restore(resumed, opt); err != nil {
		log.Fatal(err)
	}
	if err := ck.RestoreRNG("data", data); err != nil {
		log.Fatal(err)
	}
	train(resumed, opt, data, ck.Step, 10)

	same := true
	for i, p := range straight.Parameters() {
		same = same && slices.Equal(p.Value.Values(), resumed.Parameters()[i].Value.Values())
	}
	fmt.Printf("resumed at step %d; the same weights as the straight run: %v\n", ck.Step, same)
	// Output:
	// resumed at step 5; the same weights as the straight run: true
}
