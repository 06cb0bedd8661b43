package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dot (the thin products' kernel) against a float64 reference on odd and round lengths, and the
// vector kernel against its pure-Go form.
func TestDotMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, k := range []int{1, 7, 15, 16, 17, 33, 127, 128, 768, 3072} {
		a, b := randSlice(rng, k), randSlice(rng, k+3) // b may be longer than a
		var want, mag float64
		for i := range a {
			want += float64(a[i]) * float64(b[i])
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		got := dot(a, b)
		if d := math.Abs(float64(got) - want); d > 1e-6*mag+1e-7 {
			t.Errorf("k=%d: dot %v, reference %v", k, got, want)
		}
		if n := k &^ 15; n > 0 && dotVector != nil {
			var v, g [8]float32
			dotVector(a[:n], b[:n], &v)
			dotGeneric(a[:n], b[:n], &g)
			for l := range v {
				if d := math.Abs(float64(v[l] - g[l])); d > 1e-5*mag {
					t.Errorf("k=%d lane %d: vector %v, generic %v", k, l, v[l], g[l])
				}
			}
		}
	}
}
