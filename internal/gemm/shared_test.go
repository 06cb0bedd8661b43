package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSharedBRounds runs the shared-B parallel path with tiny cache blocks
// and a tiny shared buffer, so that products cross many column blocks and K
// groups (buffer reuse between rounds), on several worker counts, against
// Naive and bitwise against one worker.
func TestSharedBRounds(t *testing.T) {
	defer func(v int) { sharedBMax = v }(sharedBMax)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, kn := range supportedKernels() {
		for _, limit := range []int{1, 3 * kn.kc * kn.nr, 1 << 20} {
			sharedBMax = limit
			for _, variant := range []*microKernel{kn, smallBlocks(kn)} {
				for _, s := range []shape{
					{false, false, 150, 130, 120},
					{false, true, 97, 75, 300},
					{true, false, 130, 70, 140},
					{true, true, 65, 130, 260},
				} {
					var ref []float32
					a, b, c := operands(rng, s, 3)
					for _, w := range []int{1, 2, 3, 8} {
						checkAgainstNaive(t, s, 3, w%2 == 0, rng, kernelGemm(variant, w))
						got := c.clone()
						kernelGemm(variant, w)(s.transA, s.transB, s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, got.data, got.ld, false)
						if ref == nil {
							ref = got.data
							continue
						}
						requireBitwiseEqual(t, ref, got.data, "%s %v limit=%d workers=%d", variant.name, s, limit, w)
					}
				}
			}
		}
	}
}

// TestStridedKernelsMatchPacked checks that the strided kernel variants,
// reading A in place (row-major and transposed) or packed, give bitwise the
// results of the packed kernels.
func TestStridedKernelsMatchPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, kn := range supportedKernels() {
		if kn.fnS == nil {
			continue
		}
		type pair struct {
			width int
			fn    func(k int, a, b, c []float32, ldc int, accumulate bool)
			fnS   func(k int, a []float32, rsa, csa int, b, c []float32, ldc int, accumulate bool)
		}
		pairs := []pair{{kn.nr, kn.fn, kn.fnS}}
		if kn.fnNarrowS != nil {
			pairs = append(pairs, pair{kn.nrNarrow, kn.fnNarrow, kn.fnNarrowS})
		}
		mr, nr := kn.mr, kn.nr
		for _, pr := range pairs {
			for _, k := range []int{1, 3, 4, 7, 64, 257} {
				for _, acc := range []bool{false, true} {
					lda := k + 5
					rowMajor := randSlice(rng, mr*lda) // A is mr×k, ld lda
					ldt := mr + 3
					trans := make([]float32, k*ldt) // the same A stored k×mr
					packed := make([]float32, k*mr)
					for i := 0; i < mr; i++ {
						for p := 0; p < k; p++ {
							trans[p*ldt+i] = rowMajor[i*lda+p]
							packed[p*mr+i] = rowMajor[i*lda+p]
						}
					}
					b := randSlice(rng, nr*k)
					ldc := nr + 2
					c0 := randSlice(rng, mr*ldc)
					want := append([]float32(nil), c0...)
					pr.fn(k, packed, b, want, ldc, acc)
					for _, v := range []struct {
						name     string
						a        []float32
						rsa, csa int
					}{{"packed", packed, 1, mr}, {"rowmajor", rowMajor, lda, 1}, {"transposed", trans, 1, ldt}} {
						got := append([]float32(nil), c0...)
						pr.fnS(k, v.a, v.rsa, v.csa, b, got, ldc, acc)
						requireBitwiseEqual(t, want, got, "%s width=%d %s k=%d acc=%v", kn.name, pr.width, v.name, k, acc)
					}
				}
			}
		}
	}
}

// TestBatchedInterleavedColumnBlocks is the attention layout: every batch
// entry writes its own column block of one shared C (offset b*T*3C + h*HS,
// ldc = 3C), from strided A and B blocks of shared buffers. Each block must
// match Naive and every other element of C (the other third of each row
// and the gaps) must be left untouched, for any worker count.
func TestBatchedInterleavedColumnBlocks(t *testing.T) {
	defer SetWorkers(Workers())
	const nb, nh, tt, hs = 3, 4, 37, 9 // odd sizes: ragged tiles everywhere
	const c = nh * hs
	const c3 = 3 * c
	rng := rand.New(rand.NewPCG(25, 26))
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		for _, w := range []int{1, 2, 3, 16} {
			SetWorkers(w)
			// A: per-head (T, T) blocks of a score buffer; B: head blocks
			// of a (B, T, C) buffer; C: head blocks in the middle third of a
			// (B, T, 3C) buffer.
			m, n, k := tt, hs, tt
			a := randSlice(rng, nb*nh*tt*tt)
			b := randSlice(rng, nb*tt*c)
			cbuf := make([]float32, nb*tt*c3)
			for i := range cbuf {
				cbuf[i] = sentinel
			}
			ldb := c
			if tr[1] {
				// B used transposed: (HS, T) blocks would need n×k; use
				// a (T·NH·B, T) layout with head blocks of HS rows instead.
				b = randSlice(rng, nb*nh*hs*tt)
				ldb = tt
			}
			var offs []BatchOffsets
			for bi := range nb {
				for h := range nh {
					bo := bi*tt*c + h*hs
					if tr[1] {
						bo = (bi*nh + h) * hs * tt
					}
					offs = append(offs, BatchOffsets{A: (bi*nh + h) * tt * tt, B: bo, C: bi*tt*c3 + c + h*hs})
				}
			}
			want := append([]float32(nil), cbuf...)
			for _, o := range offs {
				Naive(tr[0], tr[1], m, n, k, a[o.A:], tt, b[o.B:], ldb, want[o.C:], c3, false)
			}
			SgemmBatched(tr[0], tr[1], m, n, k, a, tt, b, ldb, cbuf, c3, offs, false)
			for i := range cbuf {
				if want[i] == sentinel {
					require.Equal(t, sentinel, cbuf[i], "%v workers=%d: element %d outside every C block was written", tr, w, i)
					continue
				}
				require.InDelta(t, want[i], cbuf[i], errorBound(float64(k), 0, k), "%v workers=%d elem %d", tr, w, i)
				require.False(t, math.IsNaN(float64(cbuf[i])))
			}
		}
	}
}
