package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/model"
)

// embeddingsLesson: each token becomes a vector, and training puts similar tokens close together.
func embeddingsLesson(ctx context.Context, e *env) error {
	e.para(`An id is just a name. The first thing a GPT does with it is look up a row of a table: a list
		of numbers, the token's vector, or embedding. The table's numbers start random and are learnt
		like every other weight. Tokens that play similar parts in the text (vowels; capital letters;
		punctuation that ends a sentence) end up with similar vectors, because the model does better
		when it can treat them alike.`)
	e.printf("Code: nn/layers.go (Embedding), model/gpt.go (wte, the table; it is also the output layer).\n\n")

	cm, err := shakespeareModel(ctx, e)
	if err != nil {
		return err
	}
	vecs := tableRows(cm.m)
	v, c := len(vecs), len(vecs[0])
	a := cm.tok.Encode("a")[0]
	e.printf("The vector of %q: %d numbers, the first eight: %s ...\n\n", "a", c, vector(toFloat32(vecs[a][:8])))

	e.para(`Two vectors are alike when they point the same way. Cosine similarity measures it: 1 for the
		same direction, 0 for unrelated, −1 for opposite. The nearest neighbours of a few characters:`)
	for _, ch := range []string{"a", "e", "T", "s", ".", "!", "?"} {
		ids := cm.tok.Encode(ch)
		if len(ids) == 0 {
			continue
		}
		ns := nearest(vecs, ids[0], 5)
		var parts []string
		for _, n := range ns {
			parts = append(parts, fmt.Sprintf("%s %.2f", show(cm.char(n.id)), n.sim))
		}
		e.printf("  %-2s → %s\n", show(ch), strings.Join(parts, ", "))
	}
	// the same model before training: New with the same seed draws the same starting weights
	fresh, err := model.New(cm.m.Config, e.seed)
	if err != nil {
		return err
	}
	var parts []string
	for _, n := range nearest(tableRows(fresh), a, 5) {
		parts = append(parts, fmt.Sprintf("%s %.2f", show(cm.char(n.id)), n.sim))
	}
	e.printf("Before training, the vectors were random, and so were the neighbours:\n  a  → %s\n\n", strings.Join(parts, ", "))

	e.para(fmt.Sprintf(`A vector of %d numbers cannot be drawn, but we can look at it from the best angle:
		principal component analysis (PCA) finds the two directions in which the vectors differ most,
		and the picture shows each character by its position along those two.`, c))
	pts := pca2(vecs)
	if path := e.picture("embeddings.png"); path != "" {
		points := make([]plots.Point, v)
		for i := range points {
			lab := map[string]string{" ": "space", "\n": "newline"}[cm.char(i)]
			if lab == "" {
				lab = label(cm.char(i))
			}
			points[i] = plots.Point{X: pts[i][0], Y: pts[i][1], Label: lab}
		}
		if err := plots.Scatter(path, plots.Labels{Title: "Character embeddings after training, seen along their two main directions (PCA)",
			X: "first principal component", Y: "second principal component"}, points); err != nil {
			return err
		}
		e.drew(path, "every character's vector in 2-D")
	}
	return nil
}

// tableRows returns the rows of m's token embedding table (V, C), one vector per token.
func tableRows(m *model.GPT) [][]float64 {
	table := m.WTE.Weight.Value.Contiguous()
	vecs := make([][]float64, table.Dim(0))
	for i := range vecs {
		vecs[i] = make([]float64, table.Dim(1))
		for j := range vecs[i] {
			vecs[i][j] = float64(table.At(i, j))
		}
	}
	return vecs
}

// neighbour is a token and its cosine similarity to another.
type neighbour struct {
	id  int
	sim float64
}

// nearest returns the k vectors most similar to vecs[of] by cosine similarity, most similar first.
func nearest(vecs [][]float64, of, k int) []neighbour {
	var ns []neighbour
	for i := range vecs {
		if i != of {
			ns = append(ns, neighbour{i, cosine(vecs[of], vecs[i])})
		}
	}
	slices.SortStableFunc(ns, func(a, b neighbour) int {
		switch {
		case a.sim > b.sim:
			return -1
		case a.sim < b.sim:
			return 1
		}
		return 0
	})
	return ns[:min(k, len(ns))]
}

// cosine returns a·b / (|a| |b|).
func cosine(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// pca2 projects vectors onto their first two principal components: the two orthogonal
// directions along which they spread most, the top eigenvectors of their covariance, found by
// power iteration.
func pca2(vecs [][]float64) [][2]float64 {
	n, c := len(vecs), len(vecs[0])
	mean := make([]float64, c)
	for _, v := range vecs {
		for j, x := range v {
			mean[j] += x / float64(n)
		}
	}
	cov := make([][]float64, c)
	for i := range cov {
		cov[i] = make([]float64, c)
	}
	for _, v := range vecs {
		for i := range c {
			for j := range c {
				cov[i][j] += (v[i] - mean[i]) * (v[j] - mean[j]) / float64(n)
			}
		}
	}
	var dirs [][]float64
	for range 2 {
		d := make([]float64, c)
		for i := range d {
			d[i] = 1 / math.Sqrt(float64(c)) * (1 + 0.01*float64(i)) // any start not orthogonal to the answer
		}
		for range 500 {
			next := make([]float64, c)
			for i := range c {
				for j := range c {
					next[i] += cov[i][j] * d[j]
				}
			}
			for _, u := range dirs { // stay orthogonal to the directions already found
				dot := 0.0
				for i := range c {
					dot += next[i] * u[i]
				}
				for i := range c {
					next[i] -= dot * u[i]
				}
			}
			norm := 0.0
			for _, x := range next {
				norm += x * x
			}
			norm = math.Sqrt(norm)
			if norm == 0 {
				break
			}
			for i := range next {
				next[i] /= norm
			}
			d = next
		}
		dirs = append(dirs, d)
	}
	out := make([][2]float64, n)
	for k, v := range vecs {
		for p, d := range dirs {
			for i := range c {
				out[k][p] += (v[i] - mean[i]) * d[i]
			}
		}
	}
	return out
}

// toFloat32 converts for printing with vector.
func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
