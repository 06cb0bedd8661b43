package minheap

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Keys come out in sorted order whatever order they went in, duplicates included.
func TestPopsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 100} {
		keys := make([]int32, n)
		var q []int32
		for i := range keys {
			keys[i] = rng.Int32N(20)
			q = Push(q, keys[i])
		}
		var got []int32
		for len(q) > 0 {
			got = append(got, q[0])
			q = Pop(q)
		}
		slices.Sort(keys)
		assert.Equal(t, keys, got, "n=%d", n)
	}
}
