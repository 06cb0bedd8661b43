package tokenizer_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer"
)

// byteRanks gives each single byte the rank of its value, the smallest valid vocabulary.
func byteRanks() map[string]int {
	ranks := make(map[string]int, 256)
	for b := range 256 {
		ranks[string([]byte{byte(b)})] = b
	}
	return ranks
}

// An empty pattern used to give, silently, a tokenizer that cuts text into single characters and so
// never merges across them; every way of building a BPE must refuse it instead.
func TestEmptyPatternIsAnError(t *testing.T) {
	_, err := tokenizer.New(byteRanks(), nil, "")
	assert.ErrorContains(t, err, "pattern")
	_, err = tokenizer.ReadTiktoken(strings.NewReader(allBytes()), nil, "")
	assert.ErrorContains(t, err, "pattern")
	_, err = tokenizer.Train(t.Context(), "abc abc", tokenizer.TrainConfig{VocabSize: 257, Pattern: ""})
	require.NoError(t, err, "Train's zero-value config means CL100kPattern, documented")
}
