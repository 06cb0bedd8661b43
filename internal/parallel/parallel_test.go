package parallel

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestForCoversEveryItemOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100, 1001} {
		for _, workers := range []int{1, 2, 3, 16} {
			counts := make([]atomic.Int32, n)
			For(n, workers, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					counts[i].Add(1)
				}
			})
			for i := range counts {
				assert.Equal(t, int32(1), counts[i].Load(), "n=%d workers=%d item %d", n, workers, i)
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
