// Package atomicfile writes files so that a failure part-way never leaves a damaged file in place
// of a good one: the data goes to a temporary file in the destination's directory, which is
// synced to disk and then renamed over the destination (a rename within one directory is atomic),
// and the directory itself is synced so the rename survives a crash.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// WriteTemp creates a file in dir named by pattern (as os.CreateTemp), fills it with write,
// makes it readable by all (0644, as model files usually are; CreateTemp makes 0600), syncs and
// closes it, and returns its path. On any error the file is removed and the path is "".
func WriteTemp(dir, pattern string, write func(io.Writer) error) (path string, err error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			path = ""
		}
	}()
	if err = write(f); err != nil {
		return "", err
	}
	if err = f.Chmod(0o644); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// Commit renames the temporary file tmp over path and syncs their directory. On failure it
// removes tmp and leaves path as it was.
func Commit(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	SyncDir(filepath.Dir(path))
	return nil
}

// WriteFile atomically replaces path with what write produces: WriteTemp, then Commit.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp, err := WriteTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*", write)
	if err != nil {
		return err
	}
	return Commit(tmp, path)
}

// SyncDir makes renames in dir durable where the platform allows opening a directory for it;
// where it does not, there is nothing more to do, so failure is not an error.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
