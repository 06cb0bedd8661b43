package parallel

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestForCoversEveryItemOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100, 1001} {
		for _, workers := range []int{1, 2, 3, 16} {
			for _, chunks := range []int{-1, 0, 1, 2, 5, 64, 5000} { // -1: For's own
				counts := make([]atomic.Int32, n)
				var calls atomic.Int32
				body := func(lo, hi int) {
					calls.Add(1)
					for i := lo; i < hi; i++ {
						counts[i].Add(1)
					}
				}
				if chunks < 0 {
					For(n, workers, body)
				} else {
					ForChunks(n, workers, chunks, body)
				}
				for i := range counts {
					assert.Equal(t, int32(1), counts[i].Load(), "n=%d workers=%d chunks=%d item %d", n, workers, chunks, i)
				}
				if chunks >= 0 && workers > 1 && n > 1 {
					// split (at least one chunk a worker, rounded), never into more chunks than asked
					assert.GreaterOrEqual(t, int(calls.Load()), 2, "n=%d workers=%d chunks=%d", n, workers, chunks)
					assert.LessOrEqual(t, int(calls.Load()), min(n, max(chunks, workers)), "n=%d workers=%d chunks=%d", n, workers, chunks)
				}
			}
		}
	}
}

func TestForManyCallsInARow(t *testing.T) {
	// helpers spin, park and are reused across calls; none may run a finished job
	var total atomic.Int64
	for range 2000 {
		For(64, 2, func(lo, hi int) { total.Add(int64(hi - lo)) })
	}
	assert.Equal(t, int64(2000*64), total.Load())
}

// Each worker takes its own run of tasks in order, then the others' from their far ends, and
// every task is taken once.
func TestTasksHomeRangesFirst(t *testing.T) {
	var ts Tasks
	ts.Init(8, 2)
	take := func(w int) int {
		c, ok := ts.Take(w)
		assert.True(t, ok)
		return c
	}
	assert.Equal(t, 0, take(0))
	assert.Equal(t, 4, take(1))
	assert.Equal(t, 5, take(1))
	assert.Equal(t, []int{1, 2, 3}, []int{take(0), take(0), take(0)})
	assert.Equal(t, 7, take(0)) // its own run done: the helper's, from the back
	assert.Equal(t, 6, take(1))
	_, ok := ts.Take(0)
	assert.False(t, ok)
	_, ok = ts.Take(1)
	assert.False(t, ok)

	// a caller alone takes everything; numbers past the workers wrap around
	ts.Init(5, 3)
	seen := map[int]bool{}
	for {
		c, ok := ts.Take(4)
		if !ok {
			break
		}
		assert.False(t, seen[c], "task %d twice", c)
		seen[c] = true
	}
	assert.Len(t, seen, 5)
}
