package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The table's words follow its numbers: a solid column is found where the picture would show
// it, and "mostly" needs half the weight.
func TestHeadVerdict(t *testing.T) {
	// 20 positions; every row from 3 on gives 0.7 to position 3 (a dark column), the rest to itself
	n := 20
	w := make([][]float32, n)
	for i := range w {
		w[i] = make([]float32, n)
		if i >= 3 {
			w[i][3] += 0.7
			w[i][i] += 0.3
		} else {
			w[i][i] = 1
		}
	}
	col, share := watchedColumn(w)
	assert.Equal(t, 3, col)
	assert.InDelta(t, (0.7*16+1.0)/17, share, 1e-6, "row 3 gives its column 0.7 + 0.3")
	assert.Equal(t, `mostly the ":" at 4`, headVerdict([]float64{0.3, 0.1, 0, 0, 0}, ":", col, share))

	assert.Equal(t, "mostly the previous character", headVerdict([]float64{0.1, 0.55, 0, 0, 0}, "x", 0, 0.2))
	assert.Equal(t, "leans to the previous character", headVerdict([]float64{0.1, 0.3, 0, 0, 0}, "x", 0, 0.2))
	assert.Equal(t, "spread out", headVerdict([]float64{0.1, 0.09, 0.08, 0.06, 0.05}, "x", 0, 0.1), "no habit with 6–10% is called mostly")
}
