package machine

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With x = y = 1 every chain counts its iterations exactly (below 2²⁴), so a loop that ran the
// wrong number of FMAs on any chain, or mixed chains up, gives a different number. That is what
// a peak figure rests on: flops counted = flops executed.
func TestFMALoopsCountEveryChain(t *testing.T) {
	for _, w := range PeakWidths() {
		for _, iters := range []int{0, 1, 7, 1000} {
			var acc [24]float32
			n := chains[w]
			for c := range n {
				acc[c] = float32(10 * c)
			}
			fmaLoop(w, iters, 1, 1, acc[:])
			for c := range n {
				assert.Equal(t, float32(10*c+iters), acc[c], "%s chain %d after %d iterations", w, c, iters)
			}
			for c := n; c < len(acc); c++ {
				assert.Zero(t, acc[c], "%s wrote past its %d chains", w, n)
			}
		}
	}
}

// x·y really is fused (rounded once) in the vector loops: with x = y = 1+2⁻¹² the product is
// 1 + 2⁻¹¹ + 2⁻²⁴, which float32 would round to 1 + 2⁻¹¹ (a tie, to even), so adding it to
// -(1 + 2⁻¹¹) gives 2⁻²⁴ fused and 0 unfused.
func TestFMALoopsAreFused(t *testing.T) {
	x := float32(1 + 1.0/4096)
	for _, w := range PeakWidths() {
		if w == Scalar {
			continue
		}
		var acc [24]float32
		for c := range chains[w] {
			acc[c] = -(1 + 1.0/2048)
		}
		fmaLoop(w, 1, x, x, acc[:])
		assert.Equal(t, float32(1.0/(1<<24)), acc[0], "%s", w)
	}
}

func TestSumFloats(t *testing.T) {
	for _, n := range []int{0, 64, 128, 64 * 100} {
		x := make([]float32, n)
		want := float32(0)
		for i := range x {
			x[i] = float32(i % 7)
			want += x[i]
		}
		assert.Equal(t, want, sumFloats(x), "n=%d", n)
		assert.Equal(t, want, sumGo(x), "n=%d", n)
	}
}

// The measurements are only sanity-checked: a positive, finite figure, and all cores at least
// as fast as one would be a lie on a quiet machine but not on a busy one, so not asserted.
func TestMeasurementsRun(t *testing.T) {
	for _, w := range PeakWidths() {
		g := FMAPeak(w, 1, 20*time.Millisecond)
		require.Greater(t, g, 0.0, "%s", w)
		t.Logf("%s: %.1f GFLOP/s on one core", w, g)
	}
	bw := ReadBandwidth(runtime.NumCPU(), 16<<20)
	require.Greater(t, bw, 0.0)
	t.Logf("read bandwidth (16 MiB, likely cached): %.1f GB/s", bw)
	if same, other, ok := HandOffRead(64<<10, 20*time.Millisecond); ok {
		require.Greater(t, same, 0.0)
		require.Greater(t, other, 0.0)
		t.Logf("reading 64 KiB just written: %.1f GB/s on the same core, %.1f on another", same, other)
	}
	t.Log(Describe())
}
