// Package main is the replay command: it trains goformer from the initial weights and on the
// batches that bench/torch_replay.py wrote, so that its loss curve can be laid over PyTorch's:
// with the same start and the same data, any gap left between the curves is the libraries'
// arithmetic, not their random draws. See bench/torch_replay.py for the files and the whole
// procedure.
//
//	go run ./bench/replay -dir /tmp/replay
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tokenizer"
)

// The run's settings: torch_gpt.py's defaults, nanoGPT's CPU run of shakespeare_char.
const (
	batchSize   = 12
	weightDecay = 0.1
	gradClip    = 1.0
)

var schedule = optim.CosineSchedule{WarmupIters: 100, DecayIters: 2000, MaxLR: 1e-3, MinLR: 1e-4}

func main() {
	dir := flag.String("dir", "", "the folder torch_replay.py wrote")
	data := flag.String("data", "../shared/data/tinyshakespeare.txt", "the corpus torch_replay.py trained on")
	iters := flag.Int("iters", 2000, "training iterations (as torch_replay.py's --max_iters)")
	flag.Parse()
	if err := run(*dir, *data, *iters); err != nil {
		log.Fatal(err)
	}
}

func run(dir, dataPath string, iters int) error {
	text, err := os.ReadFile(dataPath)
	if err != nil {
		return err
	}
	chars := tokenizer.NewChar(string(text))
	ids := chars.Encode(string(text))
	n := int(0.9 * float64(len(ids)))
	train, val := ids[:n], ids[n:]

	m, err := model.LoadHF(filepath.Join(dir, "init"))
	if err != nil {
		return err
	}
	m.Train()
	T := m.Config.BlockSize
	starts, err := readStarts(filepath.Join(dir, "batches.bin"))
	if err != nil {
		return err
	}
	if len(starts) < iters*batchSize {
		return fmt.Errorf("batches.bin holds %d starts, fewer than %d iterations need", len(starts), iters)
	}
	trainStarts, valStarts := starts[:iters*batchSize], starts[iters*batchSize:]

	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: schedule.MaxLR, Betas: [2]float32{0.9, 0.99}, WeightDecay: weightDecay})
	losses := make([]float64, 0, iters)
	for it := range iters {
		x, y := window(train, trainStarts[it*batchSize:(it+1)*batchSize], T)
		loss, err := m.Loss(x, y, batchSize, T)
		if err != nil {
			return err
		}
		loss.Backward()
		optim.ClipGradNorm(opt.Params(), gradClip)
		opt.SetLR(schedule.LR(it))
		opt.Step()
		opt.ZeroGrad()
		losses = append(losses, float64(loss.Item()))
		autograd.Release(loss)
		if (it+1)%250 == 0 {
			fmt.Printf("iter %d: loss %.4f\n", it+1, losses[it])
		}
	}

	frozen := m.Frozen() // evaluation: no dropout, no graph
	sum, nval := 0.0, len(valStarts)/batchSize
	for i := range nval {
		x, y := window(val, valStarts[i*batchSize:(i+1)*batchSize], T)
		l, err := frozen.Loss(x, y, batchSize, T)
		if err != nil {
			return err
		}
		sum += float64(l.Item())
	}
	res := map[string]any{"losses": losses, "val": sum / float64(max(1, nval))}
	fmt.Printf("val loss over %d batches: %.4f\n", nval, res["val"])
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "goformer.json"), out, 0o644)
}

// readStarts reads the little-endian int32 window starts of batches.bin.
func readStarts(path string) ([]int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of int32s", path, len(raw))
	}
	out := make([]int, len(raw)/4)
	for i := range out {
		out[i] = int(int32(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	return out, nil
}

// window gathers one batch: for each start s, inputs data[s:s+t] and targets data[s+1:s+1+t].
func window(data, starts []int, t int) (x, y []int) {
	for _, s := range starts {
		x = append(x, data[s:s+t]...)
		y = append(y, data[s+1:s+1+t]...)
	}
	return x, y
}
