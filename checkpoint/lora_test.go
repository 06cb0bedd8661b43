package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
)

// A model with adapters lists only them as parameters: a checkpoint of it would not load, so
// Save refuses it and writes nothing; its merge saves as any model.
func TestSaveRefusesAModelWithAdapters(t *testing.T) {
	m, err := model.New(model.Config{VocabSize: 11, BlockSize: 8, NLayer: 1, NHead: 2, NEmbd: 8}, 1)
	require.NoError(t, err)
	l, err := m.WithLoRA(model.LoRAConfig{Rank: 2})
	require.NoError(t, err)
	dir := t.TempDir()
	assert.ErrorContains(t, Save(dir, l, State{}), "Merge")
	_, err = os.Stat(filepath.Join(dir, File))
	assert.ErrorIs(t, err, os.ErrNotExist)
	merged, err := l.Merge()
	require.NoError(t, err)
	require.NoError(t, Save(dir, merged, State{}))
}
