package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.bin")
	require.NoError(t, WriteFile(path, func(w io.Writer) error { _, err := w.Write([]byte("first")); return err }))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	// a writer that fails part-way leaves the old file and no temporary file behind
	boom := errors.New("disk full")
	err = WriteFile(path, func(w io.Writer) error {
		w.Write([]byte("half of the sec"))
		return boom
	})
	assert.ErrorIs(t, err, boom)
	got, _ = os.ReadFile(path)
	assert.Equal(t, "first", string(got))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file is left")
}

func TestWriteTempInMissingDirFails(t *testing.T) {
	_, err := WriteTemp(filepath.Join(t.TempDir(), "missing"), "x*", func(io.Writer) error { return nil })
	assert.Error(t, err)
}
