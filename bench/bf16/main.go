// Package main is the bf16 command.
//
// Command bf16 measures the bfloat16 matrix product (gemm.SgemmBF16, VDPBF16PS) against the
// float32 one (gemm.Sgemm) on the same shapes, alternating them sample by sample in one process
// so that both see the same machine load, and names the CPU.
//
//	go run ./bench/bf16 -threads 1,2
//	go run ./bench/bf16 -threads 1,2 -step     # also whole training steps, alternated in rounds
//
// Each figure is given twice: from wall-clock time, and from the process's CPU time (flops ×
// threads / CPU seconds), which on a machine shared with other work leaves out the time the
// threads waited for a core. The shapes are square products and those of one training step of the Shakespeare example's
// default model (B·T = 768 rows, C = 128), in the layouts the library's layers use.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/internal/cpufeat"
	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/internal/machine"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

type shape struct {
	name           string
	m, k, n        int
	transA, transB bool
}

var shapes = []shape{
	{"square 512", 512, 512, 512, false, false},
	{"square 1024", 1024, 1024, 1024, false, false},
	{"square 2048", 2048, 2048, 2048, false, false},
	{"fwd qkv x@W^T", 768, 128, 384, false, true},
	{"fwd mlp-up x@W^T", 768, 128, 512, false, true},
	{"fwd mlp-down x@W^T", 768, 512, 128, false, true},
	{"bwd dX mlp-up dY@W", 768, 512, 128, false, false},
	{"bwd dW mlp-up dY^T@X", 512, 768, 128, true, false},
	{"bwd dW mlp-down dY^T@X", 128, 768, 512, true, false},
}

func main() {
	threadList := flag.String("threads", "1,2", "comma-separated worker counts")
	samples := flag.Int("samples", 11, "samples per shape and precision")
	minMS := flag.Float64("min-ms", 20, "minimum duration of one sample")
	products := flag.Bool("products", true, "time the product shapes")
	step := flag.Bool("step", false, "also time training steps of the Shakespeare example's default model in both precisions")
	rounds := flag.Int("rounds", 5, "-step: alternated rounds per precision")
	iters := flag.Int("iters", 20, "-step: iterations per round")
	var cfg stepConfig
	flag.IntVar(&cfg.layers, "layers", 4, "-step: transformer blocks")
	flag.IntVar(&cfg.embd, "embd", 128, "-step: width")
	flag.IntVar(&cfg.block, "block", 64, "-step: block size")
	flag.IntVar(&cfg.batch, "batch", 12, "-step: sequences per step")
	flag.Parse()
	fmt.Printf("CPU: %s (family %d model %d), AVX512-BF16: %v\n", machine.Describe(), cpufeat.Family, cpufeat.Model, gemm.BF16Native())
	if !gemm.BF16Native() {
		fmt.Println("no AVX512-BF16: SgemmBF16 is the float32 product here")
	}
	for _, f := range strings.Split(*threadList, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			fmt.Fprintf(os.Stderr, "bf16: bad thread count %q\n", f)
			os.Exit(2)
		}
		gemm.SetWorkers(t)
		fmt.Printf("\n%d thread(s), medians of %d alternated samples\n", t, *samples)
		fmt.Printf("%-24s %-16s %10s %10s %7s | %10s %10s %7s\n", "name", "M×K×N", "f32 wall", "bf16 wall", "ratio", "f32 CPU", "bf16 CPU", "ratio")
		for _, s := range shapes {
			if !*products {
				break
			}
			f32, bf, f32c, bfc := measure(s, t, *samples, *minMS)
			fmt.Printf("%-24s %-16s %10.1f %10.1f %6.2fx | %10.1f %10.1f %6.2fx\n", s.name, fmt.Sprintf("%d×%d×%d", s.m, s.k, s.n), f32, bf, bf/f32, f32c, bfc, bfc/f32c)
		}
		if *step {
			f32, bf, f32c, bfc := steps(cfg, *rounds, *iters)
			fmt.Printf("training step (%d layers, %d wide, block %d, batch %d), medians of %d rounds of %d: wall float32 %.1f ms, bf16 %.1f ms, ratio %.2f; CPU time float32 %.1f ms, bf16 %.1f ms, ratio %.2f\n",
				cfg.layers, cfg.embd, cfg.block, cfg.batch, *rounds, *iters, f32, bf, bf/f32, f32c, bfc, bfc/f32c)
		}
	}
}

// stepConfig is the model -step trains: by default the Shakespeare example's.
type stepConfig struct{ layers, embd, block, batch int }

// steps times training steps (forward, backward, clipping, AdamW) of the model sc describes on
// random tokens, in rounds alternating float32 and bf16 products, and returns
// the median round's ms per step for each, from wall-clock and from CPU time (all threads).
func steps(sc stepConfig, rounds, iters int) (f32, bf16, f32CPU, bf16CPU float64) {
	defer tensor.SetMatMulPrecision(tensor.Float32)
	cfg := model.Config{VocabSize: 65, BlockSize: sc.block, NLayer: sc.layers, NHead: max(1, sc.embd/32), NEmbd: sc.embd}
	batch := sc.batch
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := make([]int, batch*cfg.BlockSize), make([]int, batch*cfg.BlockSize)
	run := func(m *model.GPT, opt *optim.AdamW, n int) (wall, cpu float64) {
		c0, t := cpuSeconds(), time.Now()
		for range n {
			for i := range x {
				x[i], y[i] = rng.IntN(cfg.VocabSize), rng.IntN(cfg.VocabSize)
			}
			loss, err := m.Loss(x, y, batch, cfg.BlockSize)
			if err != nil {
				panic(err)
			}
			loss.Backward()
			optim.ClipGradNorm(m.Parameters(), 1)
			opt.Step()
			opt.ZeroGrad()
			autograd.Release(loss)
		}
		return time.Since(t).Seconds() * 1000 / float64(n), (cpuSeconds() - c0) * 1000 / float64(n)
	}
	type side struct {
		p          tensor.Precision
		m          *model.GPT
		opt        *optim.AdamW
		times, cpu []float64
	}
	var sides []*side
	for _, p := range []tensor.Precision{tensor.Float32, tensor.BF16} {
		m, err := model.New(cfg, 1337)
		if err != nil {
			panic(err)
		}
		sides = append(sides, &side{p: p, m: m, opt: optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-3, Betas: [2]float32{0.9, 0.99}, WeightDecay: 0.1})})
	}
	for r := -1; r < rounds; r++ {
		for _, s := range sides {
			tensor.SetMatMulPrecision(s.p)
			ms, cpu := run(s.m, s.opt, iters)
			if r >= 0 { // round -1 warms up
				s.times, s.cpu = append(s.times, ms), append(s.cpu, cpu)
			}
		}
	}
	return median(sides[0].times), median(sides[1].times), median(sides[0].cpu), median(sides[1].cpu)
}

// measure returns the median GFLOP/s of Sgemm and SgemmBF16 on s, timed in alternation, from
// wall-clock and from CPU time (× threads).
func measure(s shape, threads, samples int, minMS float64) (f32, bf16, f32CPU, bf16CPU float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	lda, ldb := s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	a, b, c := rnd(s.m*s.k), rnd(s.k*s.n), make([]float32, s.m*s.n)
	calls := []func(){
		func() { gemm.Sgemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, b, ldb, c, s.n, false) },
		func() { gemm.SgemmBF16(s.transA, s.transB, s.m, s.n, s.k, a, lda, b, ldb, c, s.n, false) },
	}
	reps := make([]int, 2)
	for i, call := range calls {
		for range 3 {
			call()
		}
		n := 1
		for {
			t := time.Now()
			for range n {
				call()
			}
			if time.Since(t).Seconds()*1000 >= minMS {
				break
			}
			n *= 2
		}
		reps[i] = n
	}
	per, cpu := [2][]float64{}, [2][]float64{}
	for range samples {
		for i, call := range calls {
			c0, t := cpuSeconds(), time.Now()
			for range reps[i] {
				call()
			}
			per[i] = append(per[i], time.Since(t).Seconds()/float64(reps[i]))
			cpu[i] = append(cpu[i], (cpuSeconds()-c0)/float64(reps[i])/float64(threads))
		}
	}
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	return flops / median(per[0]) / 1e9, flops / median(per[1]) / 1e9, flops / median(cpu[0]) / 1e9, flops / median(cpu[1]) / 1e9
}

func median(x []float64) float64 { sort.Float64s(x); return x[len(x)/2] }

// cpuSeconds is the CPU time (user and system) of the whole process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
