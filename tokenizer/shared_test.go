package tokenizer_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/cl100k"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

// readFixture returns the contents of a fixture that internal/fixture finds (../shared beside the
// repository, or envVar), skipping t with a message when it is missing.
func readFixture(t testing.TB, envVar, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, envVar, rel))
	require.NoError(t, err)
	return b
}

func encodings(t testing.TB) map[string]*tokenizer.BPE {
	g, err := gpt2.Encoding()
	require.NoError(t, err)
	c, err := cl100k.Encoding()
	require.NoError(t, err)
	return map[string]*tokenizer.BPE{"gpt2": g, "r50k_base": g, "cl100k_base": c}
}
