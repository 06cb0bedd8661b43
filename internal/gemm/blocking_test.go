package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Caches of CPUs the model must serve, from their vendors' documentation.
var modelCaches = map[string]caches{
	"zen4":         {l1: cacheLevel{32 << 10, 8, 64, 1}, l2: cacheLevel{1 << 20, 8, 64, 1}, l3: cacheLevel{32 << 20, 16, 64, 8}},
	"goldencove":   {l1: cacheLevel{48 << 10, 12, 64, 1}, l2: cacheLevel{2 << 20, 16, 64, 1}, l3: cacheLevel{105 << 20, 15, 64, 112}},
	"haswell":      {l1: cacheLevel{32 << 10, 8, 64, 1}, l2: cacheLevel{256 << 10, 8, 64, 1}, l3: cacheLevel{8 << 20, 16, 64, 8}},
	"tiny":         {l1: cacheLevel{16 << 10, 4, 64, 1}, l2: cacheLevel{128 << 10, 8, 64, 1}, l3: cacheLevel{512 << 10, 8, 64, 4}},
	"default":      defaultCaches,
	"no-l3-shared": {l1: cacheLevel{32 << 10, 8, 64, 1}, l2: cacheLevel{1 << 20, 8, 64, 1}, l3: cacheLevel{32 << 20, 16, 64, 0}},
}

// The blocks must respect what the model promises: the B micro-panel fits in L1 (and in 32 KiB),
// the A block fits in half of L2, and every block is a multiple of what the loops step by.
func TestBlocksFitTheCaches(t *testing.T) {
	for name, c := range modelCaches {
		for _, tile := range [][2]int{{8, 32}, {12, 32}, {6, 16}, {4, 4}, {8, 12}} {
			mr, nr := tile[0], tile[1]
			kc, mc, nc := blocks(mr, nr, c)
			where := fmt.Sprintf("%s %dx%d: kc=%d mc=%d nc=%d", name, mr, nr, kc, mc, nc)
			assert.Zero(t, kc%16, where)
			assert.Zero(t, mc%mr, where)
			assert.Zero(t, nc%nr, where)
			assert.GreaterOrEqual(t, kc, 64, where)
			if kc > 64 { // above the floor the model decides
				assert.LessOrEqual(t, kc*nr*4, min(c.l1.size, 32<<10), "%s: B micro-panel larger than L1", where)
			}
			if mc > 4*mr {
				assert.LessOrEqual(t, mc*kc*4, c.l2.size/2, "%s: A block over half of L2", where)
			}
		}
	}
	// On a Golden Cove core (48 KiB 12-way L1) the 12×32 kernel's B micro-panel takes 8 ways and
	// its A micro-panel 3 of the 4 left: BLIS's model gives the same kc = 256.
	kc, _, _ := blocks(12, 32, modelCaches["goldencove"])
	assert.Equal(t, 256, kc)
	way := 48 << 10 / 12
	assert.Equal(t, 8, kc*32*4/way)
	assert.LessOrEqual(t, (12*kc*4+way-1)/way, 12-8-1, "A micro-panel ways")
	// The same kc for both AVX-512 tiles (nr = 32), so they give the same bits.
	kc8, _, _ := blocks(8, 32, modelCaches["zen4"])
	kc12, _, _ := blocks(12, 32, modelCaches["zen4"])
	assert.Equal(t, kc8, kc12)
}

// Rows of A lda floats apart land in L1 set (i·4·lda/64) mod sets: lda a multiple of 1024
// puts them all in one set, lda = 128 spreads 8 rows over 8 sets 8 apart.
func TestARowsAlias(t *testing.T) {
	zen4 := modelCaches["zen4"].l1
	kn := &microKernel{mr: 8, nr: 32, kc: 192}
	assert.True(t, aRowsAlias(4*1024, 8, kn, zen4), "lda=1024")
	assert.True(t, aRowsAlias(4*2048, 8, kn, zen4), "lda=2048")
	assert.True(t, aRowsAlias(4*512, 8, kn, zen4), "lda=512: two sets of four rows")
	assert.False(t, aRowsAlias(4*128, 8, kn, zen4), "lda=128: eight sets")
	assert.False(t, aRowsAlias(4*384, 8, kn, zen4), "lda=384: sets 0, 24, 48, 8, 32, 56, 16, 40")
	assert.False(t, aRowsAlias(4*65, 8, kn, zen4), "lda=65")
	// With a 12-way L1 and the B micro-panel in 8 ways, four rows may share a set.
	gc := modelCaches["goldencove"].l1
	kn12 := &microKernel{mr: 12, nr: 32, kc: 256}
	assert.False(t, aRowsAlias(4*128, 12, kn12, gc), "lda=128: 12 rows over 8 sets")
	assert.False(t, aRowsAlias(4*256, 12, kn12, gc), "lda=256: 12 rows over 4 sets, 3 in each")
	assert.True(t, aRowsAlias(4*512, 12, kn12, gc), "lda=512: 12 rows over 2 sets, 6 in each")
}

// A row-major A whose rows alias is packed instead of read in place; the product is the same
// to the bit as with a leading dimension one larger (read in place), and matches Naive.
func TestAliasingAIsPackedWithTheSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, kn := range supportedKernels() {
		if kn.fnS == nil {
			continue
		}
		const m, n, k = 2*12*4 + 5, 70, 300
		aliased := &problem{lda: 1024}
		require.True(t, aRowsAlias(4*aliased.lda, kn.mr, kn, machineCaches.l1) || machineCaches.l1.ways > 8,
			"%s: lda=1024 should alias on this L1 (%+v)", kn.name, machineCaches.l1)
		var ref []float32
		for _, lda := range []int{1024, 1025} {
			a := make([]float32, m*lda)
			r := rand.New(rand.NewPCG(1, 1))
			for i := range m {
				for p := range k {
					a[i*lda+p] = float32(r.Float64()*2 - 1)
				}
			}
			b := randSlice(rng, k*n)
			b = b[:k*n]
			r2 := rand.New(rand.NewPCG(2, 2))
			for i := range b {
				b[i] = float32(r2.Float64()*2 - 1)
			}
			c := make([]float32, m*n)
			kernelGemm(kn, 1)(false, false, m, n, k, a, lda, b, n, c, n, false)
			if ref == nil {
				ref = c
				want := make([]float32, m*n)
				Naive(false, false, m, n, k, a, lda, b, n, want, n, false)
				for i := range want {
					require.InDelta(t, want[i], c[i], errorBound(float64(k), 0, k), "%s element %d", kn.name, i)
				}
				continue
			}
			requireBitwiseEqual(t, ref, c, "%s: lda 1024 (packed) vs 1025 (in place)", kn.name)
		}
	}
}

// Every vector kernel sums each output element with one fused multiply-add per k step, in k
// order, from zero within a K block, then adds the block to C: so with the same kc they give
// the same bits, whatever their tile shape, A layout or blocking otherwise. That is what lets
// the kernel be chosen per CPU (or by GOFORMER_SGEMM_KERNEL) without changing results on a
// given machine. (The pure-Go kernel does not fuse, so it is left out.)
func TestVectorKernelsAgreeBitwise(t *testing.T) {
	var fused []*microKernel
	for _, kn := range supportedKernels() {
		if kn != genericKernel {
			c := *kn
			c.kc, c.mc, c.nc = 96, 5*kn.mr, 3*kn.nr
			fused = append(fused, &c)
		}
	}
	if len(fused) < 2 {
		t.Skipf("this CPU runs %d vector kernel(s): nothing to compare", len(fused))
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, s := range []shape{
		{false, false, 97, 130, 250},
		{false, true, 64, 65, 200},
		{true, false, 130, 48, 97},
		{true, true, 25, 33, 300},
		{false, false, 20, 64, 130}, // 12 + 8 rows: the 12-row kernel's edge kernel fills exactly
		{true, false, 68, 40, 70},   // 5×12 + 8
	} {
		a, b, c := operands(rng, s, 2)
		var ref []float32
		for _, kn := range fused {
			got := c.clone()
			kernelGemm(kn, 2)(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, got.data, got.ld, true)
			if ref == nil {
				ref = got.data
				continue
			}
			requireBitwiseEqual(t, ref, got.data, "%s vs %s: %v", kn.name, fused[0].name, s)
		}
	}
}

// The 12-row kernel hands a product to its 8-row edge kernel when that pads fewer rows.
func TestForRowsPadsLeast(t *testing.T) {
	k8 := &microKernel{name: "8", mr: 8}
	k12 := &microKernel{name: "12", mr: 12, edge: k8}
	for _, c := range []struct {
		m      int
		want   *microKernel
		padded int
	}{
		{64, k8, 64},      // 5×12 + an 8-row panel for 4 rows = 68
		{768, k12, 768},   // exact
		{128, k12, 128},   // 10×12 + 8
		{65, k12, 68},     // 5×12 + 8 (the 8-row kernel alone: 72)
		{3, k12, 8},       // the remainder goes to the edge kernel either way
		{2048, k12, 2048}, // 170×12 + 8
	} {
		got := k12.forRows(c.m)
		assert.Equal(t, c.want.name, got.name, "m=%d", c.m)
		assert.Equal(t, c.padded, got.paddedRows(c.m), "m=%d", c.m)
	}
}

// fastest must keep the first candidate unless another is clearly faster, and find a clearly
// faster one: the pure-Go kernel is an order of magnitude slower than any vector kernel.
func TestFastestPicksTheFasterKernel(t *testing.T) {
	var vec *microKernel
	for _, kn := range supportedKernels() {
		if kn != genericKernel {
			vec = kn
		}
	}
	if vec == nil {
		t.Skip("no vector kernel on this CPU")
	}
	assert.Equal(t, vec.name, fastest([]*microKernel{genericKernel, vec}).name)
	assert.Equal(t, vec.name, fastest([]*microKernel{vec, genericKernel}).name)
	assert.Equal(t, vec.name, fastest([]*microKernel{vec, vec}).name)
	// Whatever the first product chose is one of the candidates.
	k := tunedKernel()
	if len(tuneCandidates) > 0 {
		assert.Contains(t, tuneCandidates, k)
	}
}
