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

// needShared returns the contents of a file under ../shared, skipping the test if it is missing.
func needShared(t testing.TB, envVar, rel string) []byte {
	p, ok := fixture.Find(envVar, rel)
	if !ok {
		if envVar != "" {
			t.Skipf("missing %s (set %s or provide ../shared/%s)", p, envVar, rel)
		}
		t.Skipf("missing %s (../shared/%s)", p, rel)
	}
	b, err := os.ReadFile(p)
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
