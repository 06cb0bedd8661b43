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
		if n := k &^ 15; n > 0 {
			// the vector kernel against the pure-Go form, over several rows with a gap
			const rows, ldb = 5, 3100
			bs := randSlice(rng, rows*ldb)
			v, g := make([]float32, rows), make([]float32, rows)
			dotRows(a[:n], bs, ldb, v)
			dotRowsGeneric(a[:n], bs, ldb, g)
			for j := range v {
				if d := math.Abs(float64(v[j] - g[j])); d > 1e-5*mag+1e-6 {
					t.Errorf("k=%d row %d: kernel %v, generic %v", k, j, v[j], g[j])
				}
			}
		}
	}
}
