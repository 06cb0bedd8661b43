//go:build linux && amd64 && !purego

package cpufeat

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Equal(t, AVX512F && flags["avx512_bf16"], AVX512BF16, "AVX512BF16")
	assert.Equal(t, AVX512F && flags["avx512_vnni"], AVX512VNNI, "AVX512VNNI")
}

// Linux describes the caches in sysfs from its own CPUID parsing (or firmware tables), an
// independent reading to compare ours with.
func TestCachesAgreeWithSysfs(t *testing.T) {
	const dir = "/sys/devices/system/cpu/cpu0/cache"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skip("no sysfs cache description:", err)
	}
	read := func(idx, name string) string {
		b, err := os.ReadFile(dir + "/" + idx + "/" + name)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	checked := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "index") || read(e.Name(), "type") == "Instruction" {
			continue
		}
		level, err1 := strconv.Atoi(read(e.Name(), "level"))
		sizeKiB, err2 := strconv.Atoi(strings.TrimSuffix(read(e.Name(), "size"), "K"))
		if err1 != nil || err2 != nil {
			continue
		}
		c, ok := DataCache(level)
		require.True(t, ok, "sysfs lists an L%d data cache that CPUID parsing missed (%+v)", level, Caches)
		assert.Equal(t, sizeKiB<<10, c.Size, "L%d size", level)
		if ways, err := strconv.Atoi(read(e.Name(), "ways_of_associativity")); err == nil && ways > 0 {
			assert.Equal(t, ways, c.Ways, "L%d ways", level)
		}
		if line, err := strconv.Atoi(read(e.Name(), "coherency_line_size")); err == nil {
			assert.Equal(t, line, c.LineSize, "L%d line", level)
		}
		checked++
	}
	if checked == 0 {
		t.Skip("sysfs lists no data caches")
	}
}

// /proc/cpuinfo prints the family, model and stepping from the same CPUID leaf, decoded by the
// kernel's own code.
func TestIdentityAgreesWithProcCPUInfo(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(info), "\n") {
		if line == "" {
			break // first processor only
		}
		if name, value, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	assert.Equal(t, fields["vendor_id"], Vendor)
	assert.Equal(t, atoi(fields["cpu family"]), Family)
	assert.Equal(t, atoi(fields["model"]), Model)
	assert.Equal(t, atoi(fields["stepping"]), Stepping)
	// The brand string is not compared: a sandbox or hypervisor may show the kernel another
	// name than CPUID gives a process (seen: "AMD EPYC" in /proc/cpuinfo, "Oxide Virtual
	// Turin-like Processor" from CPUID on the same machine).
	if name := strings.Join(strings.Fields(fields["model name"]), " "); name != Brand {
		t.Logf("brand: /proc/cpuinfo says %q, CPUID says %q", name, Brand)
	}
}
