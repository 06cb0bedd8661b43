// Package main is the sgemm command.
//
// Command sgemm measures goformer's float32 matrix product (internal/gemm) on the shapes that
// ../shared/bench/torch_sgemm.py times for torch.mm and torch.bmm (square sizes and the products
// of one training step of nanoGPT's small CPU config), plus the transposed forms the library's
// layers actually use, and gives each figure as a share of the machine's FMA peak measured in
// the same run (internal/machine).
//
//	go run ./bench/sgemm -threads 1,2
//	go run ./bench/sgemm -threads 2 -json > ours.json
//
// Every shape is timed in samples of at least -min-ms (calls per sample calibrated as
// torch_sgemm.py does); the median sample is the figure to compare with torch_sgemm.py's, the
// best one what the code does when the machine leaves it alone. bench/compare_sgemm.sh
// alternates this with torch_sgemm.py.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goformer/goformer/internal/cpufeat"
	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/internal/machine"
)

// shape is one product: op(A) is M×K, B is K×N; batch > 1 is a bmm of independent products.
type shape struct {
	Name   string `json:"name"`
	Batch  int    `json:"batch"`
	M      int    `json:"M"`
	K      int    `json:"K"`
	N      int    `json:"N"`
	TransA bool   `json:"trans_a"`
	TransB bool   `json:"trans_b"`
}

// torchShapes are torch_sgemm.py's shapes, with its names, in its order.
var torchShapes = []shape{
	{"fwd qkv      x@Wqkv", 1, 768, 128, 384, false, false},
	{"fwd attnproj x@Wo", 1, 768, 128, 128, false, false},
	{"fwd mlp-up   x@Wfc", 1, 768, 128, 512, false, false},
	{"fwd mlp-down h@Wproj", 1, 768, 512, 128, false, false},
	{"fwd lm_head  x@Wte^T", 1, 768, 128, 65, false, false},
	{"bwd dX qkv   dY@W", 1, 768, 384, 128, false, false},
	{"bwd dX mlp-up", 1, 768, 512, 128, false, false},
	{"bwd dX mlp-down", 1, 768, 128, 512, false, false},
	{"bwd dX lm_head", 1, 768, 65, 128, false, false},
	{"bwd dW qkv   dY^T@X", 1, 384, 768, 128, true, false},
	{"bwd dW attnproj", 1, 128, 768, 128, true, false},
	{"bwd dW mlp-up", 1, 512, 768, 128, true, false},
	{"bwd dW mlp-down", 1, 128, 768, 512, true, false},
	{"bwd dW lm_head", 1, 65, 768, 128, true, false},
	{"attn q@k^T (bmm 48)", 48, 64, 32, 64, false, false},
	{"attn p@v   (bmm 48)", 48, 64, 64, 32, false, false},
}

// libShapes are the forward products as goformer's Linear computes them: x·Wᵀ with W stored
// (out, in) as PyTorch stores it, so B is transposed.
var libShapes = []shape{
	{"lib fwd qkv x@W^T", 1, 768, 128, 384, false, true},
	{"lib fwd mlp-up x@W^T", 1, 768, 128, 512, false, true},
	{"lib fwd mlp-down x@W^T", 1, 768, 512, 128, false, true},
	{"lib fwd lm_head x@W^T", 1, 768, 128, 65, false, true},
}

// Row is one measurement, in torch_sgemm.py's JSON vocabulary where it has one.
type Row struct {
	shape
	Threads       int     `json:"threads"`
	Calls         int     `json:"calls_per_sample"`
	USMedian      float64 `json:"us_median"`
	GFLOPSMedian  float64 `json:"gflops_median"`
	GFLOPSMax     float64 `json:"gflops_max"`
	PeakShareMed  float64 `json:"peak_share_median"`
	PeakShareBest float64 `json:"peak_share_best"`
	// GFLOPSCPU is flops × threads / CPU seconds of the process (median sample): on a machine
	// shared with other work it estimates the rate without the time the threads waited for a
	// core, which wall-clock figures include. Time spent spinning for a late worker still counts.
	GFLOPSCPU    float64 `json:"gflops_cpu"`
	PeakShareCPU float64 `json:"peak_share_cpu"`
}

// Report is the -json output.
type Report struct {
	CPU     string          `json:"cpu"`
	Kernel  string          `json:"kernel"`
	Width   string          `json:"peak_width"`
	Peak    map[int]float64 `json:"peak_gflops"` // by thread count
	LoadAvg [2]string       `json:"loadavg"`     // at start and end
	Rows    []Row           `json:"rows"`
}

func main() {
	threadList := flag.String("threads", "1,2", "comma-separated worker counts")
	minMS := flag.Float64("min-ms", 20, "minimum duration of one sample")
	samples := flag.Int("samples", 15, "samples per shape")
	sizes := flag.String("square", "256,512,1024,2048", "square sizes")
	asJSON := flag.Bool("json", false, "print one JSON object")
	kernel := flag.String("kernel", "", "micro-kernel to use (one of "+strings.Join(gemm.KernelNames(), ", ")+"); default: the one chosen for this CPU")
	flag.Parse()
	if *kernel != "" && !gemm.UseKernel(*kernel) {
		fmt.Fprintf(os.Stderr, "sgemm: this CPU cannot run kernel %q (it can: %s)\n", *kernel, strings.Join(gemm.KernelNames(), ", "))
		os.Exit(2)
	}

	var shapes []shape
	for _, f := range strings.Split(*sizes, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			shapes = append(shapes, shape{fmt.Sprintf("square %d", n), 1, n, n, n, false, false})
		}
	}
	shapes = append(shapes, torchShapes...)
	shapes = append(shapes, libShapes...)

	width := peakWidth(gemm.KernelName())
	rep := Report{CPU: machine.Describe(), Kernel: gemm.KernelName(), Width: string(width), Peak: map[int]float64{}}
	rep.LoadAvg[0] = loadAvg()
	var threads []int
	for _, f := range strings.Split(*threadList, ",") {
		if t, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && t > 0 {
			threads = append(threads, t)
		}
	}
	for _, t := range threads {
		// The peak is measured before and after the products, and the better kept, so that a
		// busy spell during either does not lower it (and so raise the shares).
		peak := machine.FMAPeak(width, t, 300*time.Millisecond)
		gemm.SetWorkers(t)
		for _, s := range shapes {
			rep.Rows = append(rep.Rows, measure(s, t, *minMS, *samples))
		}
		peak = max(peak, machine.FMAPeak(width, t, 300*time.Millisecond))
		rep.Peak[t] = peak
		for i := range rep.Rows {
			if r := &rep.Rows[i]; r.Threads == t {
				r.PeakShareMed, r.PeakShareBest, r.PeakShareCPU = r.GFLOPSMedian/peak, r.GFLOPSMax/peak, r.GFLOPSCPU/peak
			}
		}
	}
	rep.LoadAvg[1] = loadAvg()
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(rep)
		return
	}
	fmt.Printf("CPU: %s\nkernel %s (cpufeat family %d model %d), load average %s at start, %s at end\n",
		rep.CPU, rep.Kernel, cpufeat.Family, cpufeat.Model, rep.LoadAvg[0], rep.LoadAvg[1])
	for _, t := range threads {
		fmt.Printf("\n%d thread(s): measured %s FMA peak %.1f GFLOP/s\n", t, width, rep.Peak[t])
		fmt.Printf("%-24s %-26s %10s %9s %7s %9s %7s %9s %7s\n", "name", "shape", "us median", "GFLOP/s", "%peak", "best", "%peak", "CPU-time", "%peak")
		for _, r := range rep.Rows {
			if r.Threads != t {
				continue
			}
			fmt.Printf("%-24s %-26s %10.1f %9.1f %6.0f%% %9.1f %6.0f%% %9.1f %6.0f%%\n", r.Name, r.describe(), r.USMedian,
				r.GFLOPSMedian, 100*r.PeakShareMed, r.GFLOPSMax, 100*r.PeakShareBest, r.GFLOPSCPU, 100*r.PeakShareCPU)
		}
	}
}

// peakWidth is the vector width whose FMA peak bounds the named kernel.
func peakWidth(kernel string) machine.Width {
	var want machine.Width
	switch {
	case strings.HasPrefix(kernel, "avx512"):
		want = machine.ZMM
	case strings.HasPrefix(kernel, "avx2"):
		want = machine.YMM
	case strings.HasPrefix(kernel, "neon"):
		want = machine.NEON
	default:
		return machine.Scalar
	}
	for _, w := range machine.PeakWidths() {
		if w == want {
			return w
		}
	}
	return machine.Scalar
}

func (s shape) describe() string {
	t := map[bool]string{false: "", true: "^T"}
	d := fmt.Sprintf("(%dx%d%s)@(%dx%d%s)", s.M, s.K, t[s.TransA], s.K, s.N, t[s.TransB])
	if s.Batch > 1 {
		d = fmt.Sprintf("%dx %s", s.Batch, d)
	}
	return d
}

// measure times one shape on the current worker count.
func measure(s shape, threads int, minMS float64, samples int) Row {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	lda, ldb := s.K, s.N
	if s.TransA {
		lda = s.M
	}
	if s.TransB {
		ldb = s.K
	}
	a, b, c := rnd(s.Batch*s.M*s.K), rnd(s.Batch*s.K*s.N), make([]float32, s.Batch*s.M*s.N)
	offs := make([]gemm.BatchOffsets, s.Batch)
	for i := range offs {
		offs[i] = gemm.BatchOffsets{A: i * s.M * s.K, B: i * s.K * s.N, C: i * s.M * s.N}
	}
	call := func() {
		if s.Batch == 1 {
			gemm.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, false)
			return
		}
		gemm.SgemmBatched(s.TransA, s.TransB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, offs, false)
	}
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
	per := make([]float64, samples)
	cpu := make([]float64, samples)
	for i := range per {
		c0 := cpuSeconds()
		t := time.Now()
		for range n {
			call()
		}
		per[i] = time.Since(t).Seconds() / float64(n)
		cpu[i] = (cpuSeconds() - c0) / float64(n)
	}
	sort.Float64s(per)
	sort.Float64s(cpu)
	med := per[len(per)/2]
	flops := 2 * float64(s.Batch*s.M*s.N*s.K)
	return Row{shape: s, Threads: threads, Calls: n, USMedian: med * 1e6,
		GFLOPSMedian: flops / med / 1e9, GFLOPSMax: flops / per[0] / 1e9,
		GFLOPSCPU: flops * float64(threads) / cpu[len(cpu)/2] / 1e9}
}

// cpuSeconds is the CPU time (user and system) of the whole process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
