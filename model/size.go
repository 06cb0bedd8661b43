package model

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// maxParams bounds the parameter count Validate accepts (2³⁴, 64 GiB of float32): far past any
// model this library trains on a CPU, and small enough that no size computed from a config can
// overflow an int.
const maxParams = 1 << 34

// paramCount returns the number of parameters a model of config c has, in float64 so that an
// absurd config cannot overflow. It is read off the model's description: a one-layer and a
// two-layer model differ by exactly one block.
func paramCount(c Config) float64 {
	size := func(n int) float64 {
		c := c
		c.NLayer = n
		total := 0.0
		for _, s := range specs(c) {
			p := 1.0
			for _, d := range s.Shape {
				p *= float64(d)
			}
			total += p
		}
		return total
	}
	one, two := size(1), size(2)
	return one + float64(c.NLayer-1)*(two-one)
}

// transformerParamCount returns the number of parameters a Transformer of config c has, in
// float64, read off its description as paramCount is: adding an encoder or a decoder layer adds
// exactly one layer's parameters.
func transformerParamCount(c TransformerConfig) float64 {
	size := func(enc, dec int) float64 {
		c := c
		c.NumEncoderLayers, c.NumDecoderLayers = enc, dec
		total := 0.0
		for _, s := range transformerSpecs(c) {
			p := 1.0
			for _, d := range s.Shape {
				p *= float64(d)
			}
			total += p
		}
		return total
	}
	base := size(1, 1)
	return base + float64(c.NumEncoderLayers-1)*(size(2, 1)-base) + float64(c.NumDecoderLayers-1)*(size(1, 2)-base)
}

// checkFits returns an error if a model of config c needs more memory for its parameters than
// the machine has in all (Linux's MemTotal; no check where that is unknown). Training needs
// several times more (gradients, optimiser moments, activations); this only turns an
// impossible allocation into an error instead of a fatal out-of-memory crash.
func checkFits(c Config) error {
	return fitsMemory(c, paramCount(c))
}

// fitsMemory returns an error if params float32 numbers (a model of config c) need more memory
// than the machine has.
func fitsMemory(c any, params float64) error {
	need := params * 4
	total, ok := memTotal()
	if ok && need > float64(total) {
		return fmt.Errorf("model: config %+v needs %.1f GiB for its parameters alone; this machine has %.1f GiB", c, need/(1<<30), float64(total)/(1<<30))
	}
	return nil
}

// memTotal reads the machine's memory size from /proc/meminfo.
func memTotal() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
