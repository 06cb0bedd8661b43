package hf_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/benchtext"
)

// TestAdversarialTextEncodesNearProseSpeed encodes 256 KB of mixed-script prose and 256 KB of each
// adversarial run with every fixture tokenizer: a run must cost at most a few times prose (a merge
// that is quadratic in the length of a piece costs thousands of times more), and a run four times
// as long at most about four times as much.
func TestAdversarialTextEncodesNearProseSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	toks, err := fixtureTokenizers()
	require.NoError(t, err)
	if len(toks) == 0 {
		t.Skip("no fixture tokenizers (../shared/testdata/hf-tokenizers)")
	}
	const n = 256 << 10
	cost := func(tok interface{ EncodeWith(string, bool) []int }, text string) time.Duration {
		var ds []time.Duration
		for range 3 {
			ds = append(ds, measure(func() { tok.EncodeWith(text, false) }))
		}
		slices.Sort(ds)
		return max(ds[1], time.Microsecond) // the median
	}
	prose := benchtext.Mixed(n)
	for _, nt := range toks {
		base := cost(nt.tok, prose)
		for name, text := range benchtext.Adversarial(n) {
			c := cost(nt.tok, text)
			assert.Less(t, float64(c)/float64(base), 8.0, "%s: %s costs %v, prose %v", nt.name, name, c, base)
		}
		small, big := benchtext.Adversarial(n / 4)["letter"], benchtext.Adversarial(n)["letter"]
		cs, cb := cost(nt.tok, small), cost(nt.tok, big)
		assert.Less(t, float64(cb)/float64(cs), 10.0, "%s: one letter, 4x as long costs %v against %v", nt.name, cb, cs)
	}
}
