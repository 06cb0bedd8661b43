package model

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The model sits below optim and checkpoint: checkpoints see both the model and the optimizer,
// the model sees neither (imports point one way).
func TestModelImportsNoOptimizer(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range af.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			for _, above := range []string{"github.com/goformer/goformer/optim", "github.com/goformer/goformer/checkpoint"} {
				assert.NotEqual(t, above, path, "%s imports %s", f, path)
			}
		}
		seen++
	}
	assert.Greater(t, seen, 5, "the package's files were read")
}
