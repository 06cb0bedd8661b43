// Package main is the profile command.
//
// Command profile runs training steps of nanoGPT's CPU config (4 layers, 4 heads, 128 wide,
// block 64, batch 12, vocabulary 65: the shakespeare_char run) under the CPU profiler and says
// where the time goes: matrix products (internal/gemm), the other kernels (element-wise, softmax,
// LayerNorm, GELU, the optimizer), autograd and layer bookkeeping, allocation, garbage
// collection, and waiting for workers. It uses only the library's public API (model, optim,
// autograd, tensor), the same calls as examples/shakespeare, so it profiles what a user runs.
//
//	go run ./bench/profile -threads 1 -iters 300
//	go run ./bench/profile -threads 2 -out /tmp/step.pprof && go tool pprof -top /tmp/step.pprof
//
// The batches are random token ids (the speed of a step does not depend on which tokens it sees).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

func main() {
	iters := flag.Int("iters", 300, "profiled training steps")
	warmup := flag.Int("warmup", 20, "steps before profiling starts")
	threads := flag.Int("threads", 2, "goroutines for the heavy kernels (tensor.SetWorkers)")
	out := flag.String("out", "", "where to keep the CPU profile (default: a temporary file)")
	top := flag.Int("top", 25, "leaf functions to list")
	precision := flag.String("precision", "float32", "matrix products: float32 or bf16 (tensor.SetMatMulPrecision)")
	llama := flag.Bool("llama", false, "the same config with the Llama family's choices (RMSNorm, rotary positions, SwiGLU 344 wide, 2 KV heads for 4, no biases), as model's BenchmarkTrainStepSmallLlama")
	flag.Parse()
	p, err := tensor.ParsePrecision(*precision)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(2)
	}
	tensor.SetMatMulPrecision(p)
	if err := run(*iters, *warmup, *threads, *out, *top, *llama); err != nil {
		log.Fatal(err)
	}
}

func run(iters, warmup, threads int, out string, top int, llama bool) error {
	tensor.SetWorkers(threads)
	cfg := model.Config{VocabSize: 65, BlockSize: 64, NLayer: 4, NHead: 4, NEmbd: 128}
	name := "nanoGPT CPU config"
	if llama {
		cfg.NoBias, cfg.Positions, cfg.Norm, cfg.FeedForward = true, model.PositionsRotary, model.NormRMSNorm, model.FeedForwardSwiGLU
		cfg.FFHidden, cfg.NKVHead = 344, 2
		name = "nanoGPT CPU config, Llama family's choices"
	}
	const batch = 12
	m, err := model.New(cfg, 1337)
	if err != nil {
		return err
	}
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-3, Betas: [2]float32{0.9, 0.99}, WeightDecay: 0.1})
	rng := rand.New(rand.NewPCG(1, 2))
	step := func() {
		x, y := make([]int, batch*cfg.BlockSize), make([]int, batch*cfg.BlockSize)
		for i := range x {
			x[i], y[i] = rng.IntN(cfg.VocabSize), rng.IntN(cfg.VocabSize)
		}
		loss, err := m.Loss(x, y, batch, cfg.BlockSize)
		if err != nil {
			log.Fatal(err)
		}
		loss.Backward()
		optim.ClipGradNorm(opt.Params(), 1.0)
		opt.Step()
		opt.ZeroGrad()
		autograd.Release(loss)
	}
	for range warmup {
		step()
	}
	if out == "" {
		f, err := os.CreateTemp("", "goformer-step-*.pprof")
		if err != nil {
			return err
		}
		f.Close()
		out = f.Name()
		defer os.Remove(out)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gc0, alloc0 := ms.NumGC, ms.TotalAlloc
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	times := make([]float64, iters)
	for i := range iters {
		t := time.Now()
		step()
		times[i] = time.Since(t).Seconds() * 1000
	}
	pprof.StopCPUProfile()
	f.Close()
	runtime.ReadMemStats(&ms)
	sort.Float64s(times)
	fmt.Printf("%s, %d threads, %d profiled steps: %.2f ms/step median (p10 %.2f, p90 %.2f); %d GCs, %.1f MB allocated per step\n",
		name, threads, iters, times[iters/2], times[iters/10], times[iters*9/10], ms.NumGC-gc0, float64(ms.TotalAlloc-alloc0)/float64(iters)/1e6)
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average: %s", l)
	}
	return report(out, top)
}

// idle is the time of workers with nothing to do: helpers spinning (polling, yielding) for the
// next job after finishing one, workers waiting at a barrier for the others, parking and waking.
// With 2 threads it is mostly the helper while the caller runs the serial parts of the step.
const idle = "workers idle or waiting (spin, yield, park, wake)"

// category decides where a sample's time goes from its stack (leaf first). Order matters: a
// stack inside the garbage collector is GC whatever called it, allocation is allocation even
// when a kernel allocated, and a worker spinning for the next job is waiting, not computing.
func category(stack []string) string {
	has := func(sub string) bool {
		for _, f := range stack {
			if strings.Contains(f, sub) {
				return true
			}
		}
		return false
	}
	leaf := stack[0]
	switch {
	case has("runtime.gcBgMarkWorker") || has("runtime.gcAssistAlloc") || has("runtime.bgsweep") ||
		has("runtime.bgscavenge") || has("runtime.gcStart") || has("runtime.markroot"):
		return "garbage collection"
	case has("runtime.mallocgc") || has("runtime.newobject") || has("runtime.makeslice") || has("runtime.growslice"):
		return "allocation"
	case strings.Contains(leaf, "internal/parallel.") || has("internal/parallel.awaitTicket") ||
		has("internal/parallel.Pause") || (strings.HasPrefix(leaf, "runtime.") && has("internal/parallel.")):
		return idle
	case has("internal/gemm."):
		return "matrix products (internal/gemm)"
	case has("internal/vecmath.") || strings.Contains(leaf, "goformer/tensor."):
		return "other kernels (tensor, vecmath)"
	case has("goformer/optim."):
		return "optimizer, clipping"
	case strings.Contains(leaf, "goformer/autograd.") || strings.Contains(leaf, "goformer/nn.") ||
		strings.Contains(leaf, "goformer/model."):
		return "autograd, layer and model code"
	case !has("goformer/") && (has("runtime.mcall") || has("runtime.schedule") || has("runtime.findRunnable") ||
		has("runtime.goschedImpl") || has("runtime.park_m") || has("runtime.mstart")):
		// The scheduler runs on its own stack, so a helper's Gosched while it spins for the
		// next job (internal/parallel) shows no goformer frame.
		return idle
	case strings.HasPrefix(leaf, "runtime.") || strings.HasPrefix(leaf, "sync"):
		return "runtime other (maps, memmove outside kernels, signals)"
	}
	return "other"
}

// report reads the profile back through go tool pprof -traces (the profile carries its own
// symbols) and sums the samples by category and by leaf function.
func report(path string, top int) error {
	cmd := exec.Command("go", "tool", "pprof", "-traces", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go tool pprof: %v: %s", err, stderr.String())
	}
	byCat, byLeaf := map[string]float64{}, map[string]float64{}
	var total float64
	var value float64
	var stack []string
	flush := func() {
		if len(stack) > 0 {
			byCat[category(stack)] += value
			byLeaf[stack[0]] += value
			total += value
		}
		stack = stack[:0]
	}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----") {
			flush()
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 || (len(stack) == 0 && !strings.HasPrefix(line, " ") && strings.Contains(line, ":")) {
			continue // the header (File, Type, Time ...)
		}
		if len(stack) == 0 && len(fields) >= 2 {
			if v, ok := duration(fields[0]); ok {
				value = v
				stack = append(stack, fields[1])
				continue
			}
		}
		if len(stack) > 0 {
			stack = append(stack, fields[0])
		}
	}
	flush()
	if total == 0 {
		return fmt.Errorf("the profile holds no samples")
	}
	fmt.Printf("CPU samples: %.2f s\n", total)
	printShares("by category", byCat, total, 0)
	printShares("by leaf function", byLeaf, total, top)
	return nil
}

func printShares(title string, m map[string]float64, total float64, top int) {
	type kv struct {
		k string
		v float64
	}
	var rows []kv
	for k, v := range m {
		rows = append(rows, kv{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].v > rows[j].v })
	if top > 0 && len(rows) > top {
		rows = rows[:top]
	}
	fmt.Printf("\n%s:\n", title)
	for _, r := range rows {
		fmt.Printf("  %5.1f%%  %7.2fs  %s\n", 100*r.v/total, r.v, r.k)
	}
}

// duration parses pprof's sample values: "10ms", "1.20s", "500us".
func duration(s string) (float64, bool) {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"ms", 1e-3}, {"us", 1e-6}, {"µs", 1e-6}, {"ns", 1e-9}, {"s", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			return v * u.scale, err == nil
		}
	}
	return 0, false
}
