package torchrand

import "testing"

func BenchmarkFillNormal(b *testing.B) {
	g := New(1)
	dst := make([]float32, 1<<20)
	for b.Loop() {
		g.FillNormal(dst, 0, 0.02)
	}
	b.ReportMetric(float64(len(dst))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
}

func BenchmarkSkip(b *testing.B) {
	g := New(1)
	for b.Loop() {
		g.Skip(1 << 20)
	}
	b.ReportMetric(float64(1<<20)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mwords/s")
}

func BenchmarkUint32(b *testing.B) {
	g := New(1)
	var s uint32
	for b.Loop() {
		for range 1 << 10 {
			s += g.Uint32()
		}
	}
	_ = s
	b.ReportMetric(float64(1<<10)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mwords/s")
}
