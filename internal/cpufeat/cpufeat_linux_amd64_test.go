//go:build linux && amd64 && !purego

package cpufeat

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Linux saves YMM and ZMM state wherever the CPU has them, so the kernel's own reading of the
// CPU flags (/proc/cpuinfo) is an independent oracle for what detect must find.
func TestDetectAgreesWithProcCPUInfo(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	var flags map[string]bool
	for _, line := range strings.Split(string(info), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = map[string]bool{}
			for _, f := range strings.Fields(value) {
				flags[f] = true
			}
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	assert.Equal(t, flags["avx2"] && flags["fma"], AVX2FMA, "AVX2FMA")
	assert.Equal(t, flags["avx2"] && flags["fma"] && flags["avx512f"], AVX512F, "AVX512F")
}
