//go:build amd64 && !purego

package gemm

import "github.com/goformer/goformer/internal/cpufeat"

//go:noescape
func scoresAVX512(hs int, q, k *float32, ldk, n int, s *float32)

//go:noescape
func weightedAVX512(hs int, p *float32, n int, v *float32, ldv int, y *float32)

// attendVector says whether QueryScores and WeightedRows run the AVX-512 kernels (for head
// sizes a multiple of 16); tests turn it off to check the Go versions on the same machine.
var attendVector = cpufeat.AVX512F
