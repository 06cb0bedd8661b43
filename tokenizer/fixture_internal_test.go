package tokenizer

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
)

// readFixture returns the contents of a fixture that internal/fixture finds, skipping t with a
// message when it is missing.
func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, "", rel))
	require.NoError(t, err)
	return b
}

// cl100kFromFixture and r50kFromFixture build cl100k_base and GPT-2 from the rank files in ../shared
// (the internal tests cannot import tokenizer/cl100k or tokenizer/gpt2, which import this package).
func cl100kFromFixture(t testing.TB) *BPE {
	t.Helper()
	enc, err := ReadTiktoken(bytes.NewReader(readFixture(t, fixture.CL100kRel)), nil, CL100kPattern)
	require.NoError(t, err)
	return enc
}

func r50kFromFixture(t testing.TB) *BPE {
	t.Helper()
	enc, err := ReadTiktoken(bytes.NewReader(readFixture(t, fixture.R50kRel)), map[string]int{"<|endoftext|>": 50256}, GPT2Pattern)
	require.NoError(t, err)
	return enc
}
