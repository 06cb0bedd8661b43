// Package main is the machine command.
//
// Command machine prints what the computer it runs on can do, so that speed figures can be given
// as a share of it: the CPU (brand, family/model, caches, vector ISA), its measured float32 FMA
// peak on one core and on all cores for every vector width it has, its streaming read
// bandwidth from memory, and how fast a core reads 400 KB just written by itself or by another
// core (what passing a kernel's output to the next costs). Each figure is the best of many short samples, which on a shared,
// noisy machine is the machine's own speed (an interrupted sample is only ever slower).
//
//	go run ./bench/machine            # human-readable
//	go run ./bench/machine -json      # one JSON object, for scripts
//
// bench/machine_check.sh compares it with C loops compiled by gcc.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/goformer/goformer/internal/cpufeat"
	"github.com/goformer/goformer/internal/machine"
)

// Report is the -json output.
type Report struct {
	CPU       string             `json:"cpu"`
	Vendor    string             `json:"vendor"`
	Family    int                `json:"family"`
	Model     int                `json:"model"`
	Threads   int                `json:"threads"`
	Peak1     map[string]float64 `json:"peak_gflops_1core"` // by width
	PeakAll   map[string]float64 `json:"peak_gflops_allcores"`
	ReadBW1   float64            `json:"read_gbs_1thread"`
	ReadBWAll float64            `json:"read_gbs_allthreads"`
	LoadAvg   string             `json:"loadavg"`
	// reading 400 KB just written, on the core that wrote it and on another (0 where threads
	// cannot be pinned)
	HandOffSame  float64 `json:"handoff_read_gbs_same_core"`
	HandOffOther float64 `json:"handoff_read_gbs_other_core"`
}

func main() {
	budget := flag.Duration("budget", time.Second, "sampling time per peak figure")
	bytes := flag.Int("bytes", 1<<30, "array size for the read bandwidth (several times the last-level cache)")
	asJSON := flag.Bool("json", false, "print one JSON object")
	flag.Parse()

	n := runtime.NumCPU()
	r := Report{
		CPU: machine.Describe(), Vendor: cpufeat.Vendor, Family: cpufeat.Family, Model: cpufeat.Model,
		Threads: n, Peak1: map[string]float64{}, PeakAll: map[string]float64{},
		LoadAvg: loadAvg(),
	}
	for _, w := range machine.PeakWidths() {
		r.Peak1[string(w)] = machine.FMAPeak(w, 1, *budget)
		r.PeakAll[string(w)] = machine.FMAPeak(w, n, *budget)
	}
	r.ReadBW1 = machine.ReadBandwidth(1, *bytes)
	r.ReadBWAll = machine.ReadBandwidth(n, *bytes)
	r.HandOffSame, r.HandOffOther, _ = machine.HandOffRead(handOffBytes, *budget/2)
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	fmt.Println("CPU:", r.CPU)
	fmt.Printf("load average at start: %s\n", r.LoadAvg)
	fmt.Println("float32 FMA peak (Go assembly, independent chains; best of ~0.1 ms samples):")
	for _, w := range machine.PeakWidths() {
		p1, pn := r.Peak1[string(w)], r.PeakAll[string(w)]
		fmt.Printf("  %-6s %7.1f GFLOP/s on 1 core, %7.1f on %d (%.2f×)\n", w, p1, pn, n, pn/p1)
	}
	fmt.Printf("streaming read (%d MiB, best pass of ~1 s): %.1f GB/s on 1 thread, %.1f GB/s on %d\n", *bytes>>20, r.ReadBW1, r.ReadBWAll, n)
	if r.HandOffOther > 0 {
		fmt.Printf("reading %d KB just written (threads pinned to CPUs 0 and 1): %.1f GB/s on the core that wrote it, %.1f GB/s on the other\n", handOffBytes/1000, r.HandOffSame, r.HandOffOther)
	}
}

// handOffBytes is the array HandOffRead passes between cores: about a training step's activation
// (768 rows of 128 float32 are 393 KB), more than L1 and well within L2.
const handOffBytes = 400_000

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
