package hooks

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

type lent[T any] struct{ Double func(*T) int }

type value struct{ n int }

func TestLookupFindsWhatWasProvided(t *testing.T) {
	Provide(lent[value]{Double: func(v *value) int { return 2 * v.n }})
	assert.Equal(t, 6, Lookup[lent[value]]().Double(&value{3}))
	assert.PanicsWithValue(t, "hooks.Provide: hooks.lent[github.com/goformer/goformer/internal/hooks.value] registered twice",
		func() { Provide(lent[value]{}) })
	assert.PanicsWithValue(t, "hooks.Lookup: nothing registered as hooks.lent[int]", func() { Lookup[lent[int]]() })
}
