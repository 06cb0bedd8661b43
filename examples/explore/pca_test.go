package main

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProjectionFindsAKnownPlane builds rows that lie, up to a little noise, in a plane spanned
// by two known orthonormal directions, with known spreads along each, and checks that the
// principal axes are those directions (up to sign) and the variances those spreads.
func TestProjectionFindsAKnownPlane(t *testing.T) {
	for _, c := range []int{3, 7, 64, 200} {
		rng := rand.New(rand.NewPCG(uint64(c), 9))
		u, w := randomUnit(rng, c), randomUnit(rng, c)
		d := dot(u, w) // make w orthogonal to u
		for i := range w {
			w[i] -= d * u[i]
		}
		norm := math.Sqrt(dot(w, w))
		for i := range w {
			w[i] /= norm
		}
		const v = 3000
		offset := rng.NormFloat64()
		data := make([]float32, v*c)
		var a, b []float64
		for r := range v {
			ar, br := 3*rng.NormFloat64(), 1*rng.NormFloat64()
			a, b = append(a, ar), append(b, br)
			for j := range c {
				data[r*c+j] = float32(offset + ar*u[j] + br*w[j] + 0.01*rng.NormFloat64())
			}
		}
		p, err := newProjection(tensor.FromSlice(data, v, c))
		require.NoError(t, err)
		assert.InDelta(t, 1, math.Abs(dot(p.axes[0], u)), 1e-3, "C=%d: first axis", c)
		assert.InDelta(t, 1, math.Abs(dot(p.axes[1], w)), 1e-3, "C=%d: second axis", c)
		assert.InDelta(t, 0, dot(p.axes[0], p.axes[1]), 1e-9, "C=%d: axes orthogonal", c)
		assert.InDelta(t, variance(a), p.variance[0], 0.02*variance(a), "C=%d", c)
		assert.InDelta(t, variance(b), p.variance[1], 0.03*variance(b), "C=%d", c)
		// projecting a row gives back its coordinates along the two directions (up to sign and noise)
		x, y := p.project(data[:c])
		assert.InDelta(t, math.Abs(a[0]-mean(a)), math.Abs(x), 0.05, "C=%d", c)
		assert.InDelta(t, math.Abs(b[0]-mean(b)), math.Abs(y), 0.05, "C=%d", c)
	}
}

func TestJacobiEigen(t *testing.T) {
	// a symmetric matrix with known eigenpairs: Q diag(5, 2, -1) Qᵀ for a rotation Q
	q := [][]float64{{2.0 / 3, 1.0 / 3, 2.0 / 3}, {-2.0 / 3, 2.0 / 3, 1.0 / 3}, {1.0 / 3, 2.0 / 3, -2.0 / 3}}
	lam := []float64{5, 2, -1}
	h := make([]float64, 9)
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				h[i*3+j] += q[i][k] * lam[k] * q[j][k]
			}
		}
	}
	vecs, vals := jacobiEigen(h, 3)
	assert.InDeltaSlice(t, lam, vals, 1e-12)
	for k := range 3 {
		d := 0.0
		for i := range 3 {
			d += vecs[i*3+k] * q[i][k]
		}
		assert.InDelta(t, 1, math.Abs(d), 1e-12, "eigenvector %d", k)
	}
}

func TestProjectionRefusesBadInput(t *testing.T) {
	_, err := newProjection(tensor.FromSlice([]float32{1, 2}, 1, 2))
	assert.Error(t, err)
	_, err = newProjection(tensor.FromSlice([]float32{1, float32(math.NaN()), 3, 4}, 2, 2))
	assert.Error(t, err)
}

func randomUnit(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	norm := math.Sqrt(dot(x, x))
	for i := range x {
		x[i] /= norm
	}
	return x
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func variance(x []float64) float64 {
	m, s := mean(x), 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return s / float64(len(x))
}
