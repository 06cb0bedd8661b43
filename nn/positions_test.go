package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The layer computes its table as far as it is used: every slice of it must be the rows of the
// full table, across the sizes at which the table grows.
func TestSinusoidalForwardIsTheTable(t *testing.T) {
	const n, d = 300, 6
	full := SinusoidalTable(n, d).Values()
	s := NewSinusoidal(n, d)
	for _, c := range []struct{ pos0, t int }{{0, 1}, {0, 64}, {63, 2}, {100, 5}, {0, n}, {n - 1, 1}} {
		got := s.Forward(c.pos0, c.t).Value
		require.Equal(t, []int{1, c.t, d}, got.Shape())
		assert.Equal(t, full[c.pos0*d:(c.pos0+c.t)*d], got.Values(), "positions %d..%d", c.pos0, c.pos0+c.t-1)
	}
	assert.Panics(t, func() { s.Forward(n-1, 2) })
	assert.Panics(t, func() { s.Forward(-1, 1) })
}

// A layer for a huge context (a config's claim) allocates nothing until it is run that far.
func TestSinusoidalAllocatesOnlyWhatIsUsed(t *testing.T) {
	s := NewSinusoidal(1<<50, 1<<12) // a table of 2⁶² floats, were it made
	got := s.Forward(3, 2).Value
	assert.Equal(t, []int{1, 2, 1 << 12}, got.Shape())
}
