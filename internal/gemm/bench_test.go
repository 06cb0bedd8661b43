package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchCase is one product shape; batch > 1 runs SgemmBatched.
type benchCase struct {
	name           string
	transA, transB bool
	batch, m, n, k int
}

// The small GPT's products (batch 12 × block 64 = 768 rows, width 128, MLP
// 512, QKV 384, vocab 65, 4 heads × 32): forward (NN), input gradients (NT,
// dY·Wᵀ) and weight gradients (TN, Xᵀ·dY), and the attention bmm's.
var gptCases = []benchCase{
	{"NN_768x128x384", false, false, 1, 768, 384, 128},
	{"NN_768x128x512", false, false, 1, 768, 512, 128},
	{"NN_768x512x128", false, false, 1, 768, 128, 512},
	{"NN_768x128x65", false, false, 1, 768, 65, 128},
	{"NT_768x384x128", false, true, 1, 768, 128, 384},
	{"NT_768x512x128", false, true, 1, 768, 128, 512},
	{"NT_768x65x128", false, true, 1, 768, 128, 65},
	{"TN_384x768x128", true, false, 1, 384, 128, 768},
	{"TN_128x768x512", true, false, 1, 128, 512, 768},
	{"TN_65x768x128", true, false, 1, 65, 128, 768},
	{"bmm48_64x32x64", false, false, 48, 64, 64, 32},
	{"bmm48_64x64x32", false, false, 48, 64, 32, 64},
	{"bmm48_NT_64x32x64", false, true, 48, 64, 64, 32},
}

func runBench(b *testing.B, bc benchCase, workers int) {
	defer SetWorkers(Workers())
	SetWorkers(workers)
	rng := rand.New(rand.NewPCG(1, 1))
	m, n, k := bc.m, bc.n, bc.k
	lda, ldb := k, n
	if bc.transA {
		lda = m
	}
	if bc.transB {
		ldb = k
	}
	a := randSlice(rng, bc.batch*m*k)
	bb := randSlice(rng, bc.batch*k*n)
	c := make([]float32, bc.batch*m*n)
	offs := make([]BatchOffsets, bc.batch)
	for i := range offs {
		offs[i] = BatchOffsets{A: i * m * k, B: i * k * n, C: i * m * n}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if bc.batch == 1 {
			Sgemm(bc.transA, bc.transB, m, n, k, a, lda, bb, ldb, c, n, false)
		} else {
			SgemmBatched(bc.transA, bc.transB, m, n, k, a, lda, bb, ldb, c, n, offs, false)
		}
	}
	flops := 2 * float64(bc.batch) * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSquare(b *testing.B) {
	for _, size := range []int{64, 128, 256, 512, 1024, 2048} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/w=%d", size, w), func(b *testing.B) {
				runBench(b, benchCase{batch: 1, m: size, n: size, k: size}, w)
			})
		}
	}
}

func BenchmarkGPT(b *testing.B) {
	for _, bc := range gptCases {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/w=%d", bc.name, w), func(b *testing.B) { runBench(b, bc, w) })
		}
	}
}

// BenchmarkGenericKernel measures the pure-Go fallback at one size.
func BenchmarkGenericKernel(b *testing.B) {
	saved := tunedKernel() // tune first, or the first product would replace the kernel set here
	defer func() { activeKernel = saved }()
	activeKernel = genericKernel
	runBench(b, benchCase{batch: 1, m: 512, n: 512, k: 512}, 1)
}

// BenchmarkKernels measures every kernel the CPU can run.
func BenchmarkKernels(b *testing.B) {
	saved := tunedKernel()
	defer func() { activeKernel = saved }()
	for _, kn := range supportedKernels() {
		activeKernel = kn
		b.Run(kn.name, func(b *testing.B) { runBench(b, benchCase{batch: 1, m: 512, n: 512, k: 512}, 1) })
	}
}

// gptStepProduct is one product of the GPT step benchmark; batched products
// use the attention layout (heads as strided column blocks of a (B, T, 3C)
// or (B, T, C) buffer, scores as contiguous (T, T) blocks).
type gptStepProduct struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	aOff, bOff     func(bi, h int) int // nil: a single product at offset 0
	cOff           func(bi, h int) int
	times          int
}

// gptStepProducts lists the products of one training step of the small GPT
// (4 layers, 4 heads × 32, width 128, MLP 512, batch 12 × 64 tokens, vocab
// 65), each with its repeat count: forward (NT, x·Wᵀ), input gradients (NN)
// and weight gradients (TN), and the batched attention products.
func gptStepProducts() []gptStepProduct {
	const bt, c, c3, t, hs, nh = 768, 128, 384, 64, 32, 4
	q := func(bi, h int) int { return bi*t*c3 + h*hs }
	k := func(bi, h int) int { return bi*t*c3 + c + h*hs }
	v := func(bi, h int) int { return bi*t*c3 + 2*c + h*hs }
	score := func(bi, h int) int { return (bi*nh + h) * t * t }
	out := func(bi, h int) int { return bi*t*c + h*hs }
	lin := func(transA, transB bool, m, n, kk, times int) gptStepProduct {
		lda, ldb := kk, n
		if transA {
			lda = m
		}
		if transB {
			ldb = kk
		}
		return gptStepProduct{transA: transA, transB: transB, m: m, n: n, k: kk, lda: lda, ldb: ldb, ldc: n, times: times}
	}
	att := func(transA, transB bool, m, n, kk, lda, ldb, ldc int, a, b, cc func(bi, h int) int) gptStepProduct {
		return gptStepProduct{transA, transB, m, n, kk, lda, ldb, ldc, a, b, cc, 4}
	}
	return []gptStepProduct{
		// forward
		lin(false, true, bt, 384, 128, 4), lin(false, true, bt, 128, 128, 4),
		lin(false, true, bt, 512, 128, 4), lin(false, true, bt, 128, 512, 4),
		lin(false, true, bt, 65, 128, 1),
		att(false, true, t, t, hs, c3, c3, t, q, k, score),
		att(false, false, t, hs, t, t, c3, c, score, v, out),
		// backward: input gradients
		lin(false, false, bt, 128, 384, 4), lin(false, false, bt, 128, 128, 4),
		lin(false, false, bt, 128, 512, 4), lin(false, false, bt, 512, 128, 4),
		lin(false, false, bt, 128, 65, 1),
		// backward: weight gradients
		lin(true, false, 384, 128, bt, 4), lin(true, false, 128, 128, bt, 4),
		lin(true, false, 512, 128, bt, 4), lin(true, false, 128, 512, bt, 4),
		lin(true, false, 65, 128, bt, 1),
		// backward: attention
		att(true, false, t, hs, t, t, c, c3, score, out, v),
		att(false, true, t, t, hs, c, c3, t, out, v, score),
		att(false, false, t, hs, t, t, c3, c3, score, k, q),
		att(true, false, t, hs, t, t, c3, c3, score, q, k),
	}
}

// gptStepPrepared is a gptStepProduct with its operands allocated.
type gptStepPrepared struct {
	p       gptStepProduct
	a, bb   []float32
	c       []float32
	offsets []BatchOffsets
	flops   float64 // per run of all its repeats
}

func (pr *gptStepPrepared) run() {
	p := pr.p
	for range p.times {
		if pr.offsets == nil {
			Sgemm(p.transA, p.transB, p.m, p.n, p.k, pr.a, p.lda, pr.bb, p.ldb, pr.c, p.ldc, false)
		} else {
			SgemmBatched(p.transA, p.transB, p.m, p.n, p.k, pr.a, p.lda, pr.bb, p.ldb, pr.c, p.ldc, pr.offsets, false)
		}
	}
}

func (pr *gptStepPrepared) name() string {
	p := pr.p
	t := map[bool]string{false: "N", true: "T"}
	s := fmt.Sprintf("%s%s_%dx%dx%d", t[p.transA], t[p.transB], p.m, p.n, p.k)
	if pr.offsets != nil {
		s = "bmm48_" + s
	}
	return s
}

func prepareGPTStep() []gptStepPrepared {
	const nb, nh = 12, 4
	rng := rand.New(rand.NewPCG(1, 1))
	size := func(rows, ld int) int { return rows * ld }
	var preps []gptStepPrepared
	for _, p := range gptStepProducts() {
		ar, br := p.m, p.k
		if p.transA {
			ar = p.k
		}
		if p.transB {
			br = p.n
		}
		pr := gptStepPrepared{p: p}
		if p.aOff == nil {
			pr.a = randSlice(rng, size(ar, p.lda))
			pr.bb = randSlice(rng, size(br, p.ldb))
			pr.c = make([]float32, size(p.m, p.ldc))
			pr.flops = 2 * float64(p.m*p.n*p.k*p.times)
		} else {
			// Shared buffers sized for the largest offset plus one matrix.
			var maxA, maxB, maxC int
			for bi := range nb {
				for h := range nh {
					pr.offsets = append(pr.offsets, BatchOffsets{A: p.aOff(bi, h), B: p.bOff(bi, h), C: p.cOff(bi, h)})
					maxA, maxB, maxC = max(maxA, p.aOff(bi, h)), max(maxB, p.bOff(bi, h)), max(maxC, p.cOff(bi, h))
				}
			}
			pr.a = randSlice(rng, maxA+size(ar, p.lda))
			pr.bb = randSlice(rng, maxB+size(br, p.ldb))
			pr.c = make([]float32, maxC+size(p.m, p.ldc))
			pr.flops = 2 * float64(p.m*p.n*p.k*p.times*nb*nh)
		}
		preps = append(preps, pr)
	}
	return preps
}

// BenchmarkGPTStep runs every product of one small-GPT training step per
// iteration (see gptStepProducts), on 1 and 2 workers.
func BenchmarkGPTStep(b *testing.B) {
	preps := prepareGPTStep()
	var flops float64
	for _, pr := range preps {
		flops += pr.flops
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("w=%d", w), func(b *testing.B) {
			defer SetWorkers(Workers())
			SetWorkers(w)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for i := range preps {
					preps[i].run()
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkGPTStepProducts times the products of BenchmarkGPTStep one by one
// (each with its repeat count per iteration).
func BenchmarkGPTStepProducts(b *testing.B) {
	preps := prepareGPTStep()
	for i := range preps {
		pr := &preps[i]
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/w=%d", pr.name(), w), func(b *testing.B) {
				defer SetWorkers(Workers())
				SetWorkers(w)
				for range b.N {
					pr.run()
				}
				b.ReportMetric(pr.flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMicroKernel times each micro-kernel alone on one packed tile that
// stays in L1 (k = 128 and k = kc), the ceiling the blocking can approach.
func BenchmarkMicroKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, kn := range tileKernels() {
		for _, k := range []int{64, 128, 256} {
			a := randSlice(rng, kn.mr*k)
			bb := randSlice(rng, kn.nr*k)
			c := make([]float32, kn.mr*kn.nr)
			b.Run(fmt.Sprintf("%s/k=%d", kn.name, k), func(b *testing.B) {
				for range b.N {
					kn.fn(k, a, bb, c, kn.nr, true)
				}
				b.ReportMetric(2*float64(kn.mr*kn.width*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
