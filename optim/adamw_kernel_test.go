package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamWVectorKernelMatchesGo checks that the vector kernel gives the Go loop's bits, for
// every length up to a few vectors (the tails) and for values over many magnitudes, including
// zero gradients and zero second moments.
func TestAdamWVectorKernelMatchesGo(t *testing.T) {
	if !adamwVectorOn {
		t.Skip("no vector AdamW kernel on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	wild := func() float32 { // sign × 10^[-8, 2], sometimes exactly 0
		if rng.IntN(10) == 0 {
			return 0
		}
		return float32(rng.NormFloat64() * math.Pow(10, rng.Float64()*10-8))
	}
	c := adamwConsts{decayMul: 1 - 6e-4*0.1, w1: 0.1, beta2: 0.99, w2: 0.01, bc2Sqrt: 0.3, eps: 1e-8, stepSize: 6e-4 / 0.2}
	for n := range 70 {
		p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			p[i], g[i], m[i] = wild(), wild(), wild()
			v[i] = float32(math.Abs(float64(wild())))
		}
		pw, mw, vw := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
		adamwGo(pw, g, mw, vw, &c)
		adamwKernel(p, g, m, v, &c)
		for i := range n {
			if math.Float32bits(p[i]) != math.Float32bits(pw[i]) || math.Float32bits(m[i]) != math.Float32bits(mw[i]) || math.Float32bits(v[i]) != math.Float32bits(vw[i]) {
				t.Fatalf("n=%d element %d: kernel (p %v, m %v, v %v), Go loop (p %v, m %v, v %v)", n, i, p[i], m[i], v[i], pw[i], mw[i], vw[i])
			}
		}
	}
}
