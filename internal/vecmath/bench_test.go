package vecmath

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks for every kernel at a GPT MLP activation's size (12×64×512 =
// 393216, beyond L2) and a small row (4096, in L1), on each code path the
// CPU has, so that `go test -bench . -count 6` plus benchstat shows the
// speedup of the assembly over Go. elem/s counts elements of src; B/s
// (from SetBytes) counts bytes read and written.

var benchSizes = []int{4096, 393216}

var benchPaths = []string{"avx512", "avx2", "go"}

// benchKernel runs f under each path; bytesPerElem is what f reads and
// writes per element.
func benchKernel(b *testing.B, bytesPerElem int, f func(n int) func()) {
	for _, n := range benchSizes {
		run := f(n)
		for _, p := range benchPaths {
			b.Run(fmt.Sprintf("n=%d/%s", n, p), func(b *testing.B) {
				b.SetBytes(int64(n * bytesPerElem))
				if !withPath(p, func() {
					for b.Loop() {
						run()
					}
				}) {
					b.Skipf("no %s on this machine", p)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "elem/s")
			})
		}
	}
}

func benchData(n int, scale float64) []float32 {
	return randSlice(rand.New(rand.NewPCG(uint64(n), 1)), n, scale)
}

func BenchmarkExp(b *testing.B) {
	benchKernel(b, 8, func(n int) func() {
		src, dst := benchData(n, 10), make([]float32, n)
		return func() { Exp(dst, src) }
	})
}

func BenchmarkGELU(b *testing.B) {
	benchKernel(b, 8, func(n int) func() {
		src, dst := benchData(n, 4), make([]float32, n)
		return func() { GELU(dst, src) }
	})
}

func BenchmarkGELUWithDerivative(b *testing.B) {
	benchKernel(b, 12, func(n int) func() {
		src, y, d := benchData(n, 4), make([]float32, n), make([]float32, n)
		return func() { GELUWithDerivative(y, d, src) }
	})
}

func BenchmarkGELUTanh(b *testing.B) {
	benchKernel(b, 8, func(n int) func() {
		src, dst := benchData(n, 4), make([]float32, n)
		return func() { GELUTanh(dst, src) }
	})
}

func BenchmarkGELUTanhWithDerivative(b *testing.B) {
	benchKernel(b, 12, func(n int) func() {
		src, y, d := benchData(n, 4), make([]float32, n), make([]float32, n)
		return func() { GELUTanhWithDerivative(y, d, src) }
	})
}

func BenchmarkAdd(b *testing.B) {
	benchKernel(b, 12, func(n int) func() {
		x, y, dst := benchData(n, 1), benchData(n, 2), make([]float32, n)
		return func() { Add(dst, x, y) }
	})
}

func BenchmarkMul(b *testing.B) {
	benchKernel(b, 12, func(n int) func() {
		x, y, dst := benchData(n, 1), benchData(n, 2), make([]float32, n)
		return func() { Mul(dst, x, y) }
	})
}

func BenchmarkScale(b *testing.B) {
	benchKernel(b, 8, func(n int) func() {
		src, dst := benchData(n, 1), make([]float32, n)
		return func() { Scale(dst, src, 0.5) }
	})
}

func BenchmarkAddScaled(b *testing.B) {
	benchKernel(b, 12, func(n int) func() {
		src, dst := benchData(n, 1), make([]float32, n)
		return func() { AddScaled(dst, 1e-3, src) }
	})
}

var sink float64

func BenchmarkSum(b *testing.B) {
	benchKernel(b, 4, func(n int) func() {
		src := benchData(n, 1)
		return func() { sink += Sum(src) }
	})
}

func BenchmarkDot(b *testing.B) {
	benchKernel(b, 8, func(n int) func() {
		x, y := benchData(n, 1), benchData(n, 1)
		return func() { sink += Dot(x, y) }
	})
}

func BenchmarkMax(b *testing.B) {
	benchKernel(b, 4, func(n int) func() {
		src := benchData(n, 1)
		return func() { sink += float64(Max(src)) }
	})
}

func BenchmarkSoftmaxRow(b *testing.B) {
	benchKernel(b, 8, func(n int) func() {
		src, dst := benchData(n, 5), make([]float32, n)
		return func() { SoftmaxRow(dst, src) }
	})
}
