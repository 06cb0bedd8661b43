package main

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/goformer/goformer/tensor"
)

// projection is the plane of the two principal components of a table of row vectors (the token
// embedding wte, V × C): the page draws each token at its coordinates in that plane.
type projection struct {
	mean     []float64
	axes     [2][]float64 // orthonormal, the first of larger variance
	variance [2]float64   // of the rows along each axis
	total    float64      // of the rows, summed over all C directions
}

// newProjection finds the two principal axes of the rows of w (V, C): the top two eigenvectors of
// the covariance matrix Σ = XᵀX/V − μμᵀ. XᵀX is one matrix product (the library's SGEMM: for
// GPT-2's 50257 × 768 table it is 4·10¹⁰ flops, a fraction of a second); the eigenvectors of the
// C × C matrix come from subspace iteration with a Rayleigh–Ritz step, in float64.
func newProjection(w *tensor.Tensor) (*projection, error) {
	if w.Dims() != 2 || w.Dim(0) < 2 || w.Dim(1) < 2 {
		return nil, errors.New("pca: need a table of at least 2 rows of at least 2 columns")
	}
	v, c := w.Dim(0), w.Dim(1)
	data := w.Contiguous().Data()
	mean := make([]float64, c)
	for i := range v {
		for j, x := range data[i*c : (i+1)*c] {
			mean[j] += float64(x)
		}
	}
	for j := range mean {
		mean[j] /= float64(v)
	}
	xtx := tensor.TMatMul(w, w).Contiguous().Data() // (C, C)
	cov := make([]float64, c*c)
	total := 0.0
	for i := range c {
		for j := range c {
			cov[i*c+j] = float64(xtx[i*c+j])/float64(v) - mean[i]*mean[j]
		}
		total += cov[i*c+i]
	}
	for _, x := range cov {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, errors.New("pca: the embedding is not finite")
		}
	}
	vecs, vals := topEigen(cov, c, 2)
	p := &projection{mean: mean, total: total}
	for k := range 2 {
		// A sign convention, so the picture does not flip between two snapshots of a model:
		// the largest component of each axis is positive.
		big := 0
		for j, x := range vecs[k] {
			if math.Abs(x) > math.Abs(vecs[k][big]) {
				big = j
			}
		}
		if vecs[k][big] < 0 {
			for j := range vecs[k] {
				vecs[k][j] = -vecs[k][j]
			}
		}
		p.axes[k], p.variance[k] = vecs[k], max(vals[k], 0)
	}
	return p, nil
}

// project returns the coordinates of row (C) in the plane.
func (p *projection) project(row []float32) (x, y float64) {
	for j, r := range row {
		d := float64(r) - p.mean[j]
		x += d * p.axes[0][j]
		y += d * p.axes[1][j]
	}
	return x, y
}

// topEigen returns the n eigenvectors of the symmetric positive semi-definite c × c matrix a
// (row-major) with the largest eigenvalues, largest first, and those eigenvalues. It iterates on a
// subspace a few vectors wider than n, which converges at the rate of the gap after those few.
func topEigen(a []float64, c, n int) ([][]float64, []float64) {
	k := min(c, n+4)
	rng := rand.New(rand.NewPCG(1, 2))
	q := make([][]float64, k)
	for i := range q {
		q[i] = make([]float64, c)
		for j := range q[i] {
			q[i][j] = rng.NormFloat64()
		}
	}
	orthonormalize(q)
	z := make([][]float64, k)
	for i := range z {
		z[i] = make([]float64, c)
	}
	scale := 0.0
	for i := range c {
		scale = max(scale, a[i*c+i])
	}
	for it := range 300 {
		for i := range q {
			matVec(z[i], a, q[i], c)
		}
		q, z = z, q
		orthonormalize(q)
		if it%10 == 9 && converged(a, q, c, n, 1e-9*scale) {
			break
		}
	}
	// Rayleigh–Ritz: the best approximations within the subspace, sorted.
	h := make([]float64, k*k)
	for i := range k {
		matVec(z[0], a, q[i], c)
		for j := range k {
			h[j*k+i] = dot(q[j], z[0])
		}
	}
	hv, hvals := jacobiEigen(h, k)
	vecs := make([][]float64, n)
	for r := range n {
		vecs[r] = make([]float64, c)
		for i := range k {
			for j := range c {
				vecs[r][j] += hv[i*k+r] * q[i][j]
			}
		}
	}
	return vecs, hvals[:n]
}

// converged reports whether the first n vectors of q are eigenvectors of a to within tol: the
// residual ‖aq − (qᵀaq)q‖ of each is at most tol. (q's vectors need not be sorted yet, but by the
// time the top ones have converged they are.)
func converged(a []float64, q [][]float64, c, n int, tol float64) bool {
	z := make([]float64, c)
	for i := range n {
		matVec(z, a, q[i], c)
		l := dot(q[i], z)
		r := 0.0
		for j := range z {
			d := z[j] - l*q[i][j]
			r += d * d
		}
		if math.Sqrt(r) > tol {
			return false
		}
	}
	return true
}

func matVec(dst, a, x []float64, c int) {
	for i := range c {
		dst[i] = dot(a[i*c:(i+1)*c], x)
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// orthonormalize makes q's vectors orthonormal in place (modified Gram–Schmidt); a vector that
// collapses is replaced by a unit vector along an axis, then made orthogonal like the rest.
func orthonormalize(q [][]float64) {
	for i := range q {
		for try := 0; ; try++ {
			for j := range i {
				d := dot(q[i], q[j])
				for l := range q[i] {
					q[i][l] -= d * q[j][l]
				}
			}
			norm := math.Sqrt(dot(q[i], q[i]))
			if norm > 1e-12 || try >= len(q[i]) {
				for l := range q[i] {
					q[i][l] /= max(norm, 1e-300)
				}
				break
			}
			for l := range q[i] {
				q[i][l] = 0
			}
			q[i][(i+try)%len(q[i])] = 1
		}
	}
}

// jacobiEigen diagonalises the small symmetric k × k matrix h (row-major; destroyed) by cyclic
// Jacobi rotations and returns its eigenvectors as the columns of v (row-major) and the
// eigenvalues, sorted largest first.
func jacobiEigen(h []float64, k int) ([]float64, []float64) {
	v := make([]float64, k*k)
	for i := range k {
		v[i*k+i] = 1
	}
	for range 100 {
		off := 0.0
		for i := range k {
			for j := i + 1; j < k; j++ {
				off += h[i*k+j] * h[i*k+j]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := range k {
			for q := p + 1; q < k; q++ {
				if h[p*k+q] == 0 {
					continue
				}
				theta := (h[q*k+q] - h[p*k+p]) / (2 * h[p*k+q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				cs := 1 / math.Sqrt(t*t+1)
				sn := t * cs
				for r := range k { // columns p and q of h
					hp, hq := h[r*k+p], h[r*k+q]
					h[r*k+p], h[r*k+q] = cs*hp-sn*hq, sn*hp+cs*hq
				}
				for r := range k { // rows p and q of h
					hp, hq := h[p*k+r], h[q*k+r]
					h[p*k+r], h[q*k+r] = cs*hp-sn*hq, sn*hp+cs*hq
				}
				for r := range k {
					vp, vq := v[r*k+p], v[r*k+q]
					v[r*k+p], v[r*k+q] = cs*vp-sn*vq, sn*vp+cs*vq
				}
			}
		}
	}
	// sort the eigenpairs, largest eigenvalue first
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	for i := range k {
		for j := i + 1; j < k; j++ {
			if h[order[j]*k+order[j]] > h[order[i]*k+order[i]] {
				order[i], order[j] = order[j], order[i]
			}
		}
	}
	vals := make([]float64, k)
	vs := make([]float64, k*k)
	for c, o := range order {
		vals[c] = h[o*k+o]
		for r := range k {
			vs[r*k+c] = v[r*k+o]
		}
	}
	return vs, vals
}
