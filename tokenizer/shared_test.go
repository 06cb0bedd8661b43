package tokenizer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/cl100k"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

// sharedPath returns envVar's value if set, else ../shared/rel beside the repository root (the
// directory holding go.mod), and whether the file exists.
func sharedPath(t testing.TB, envVar, rel string) (string, bool) {
	if envVar != "" {
		if p := os.Getenv(envVar); p != "" {
			_, err := os.Stat(p)
			return p, err == nil
		}
	}
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("..", "shared", rel), false
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", rel)
	_, err = os.Stat(p)
	return p, err == nil
}

// needShared returns the contents of a file under ../shared, skipping the test if it is missing.
func needShared(t testing.TB, envVar, rel string) []byte {
	p, ok := sharedPath(t, envVar, rel)
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
