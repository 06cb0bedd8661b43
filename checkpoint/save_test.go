package checkpoint

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

func tensorFile(t *testing.T, dir string) string {
	t.Helper()
	name, ok := readRaw(t, dir)["tensors"].(string)
	require.True(t, ok)
	return name
}

func tensorPath(t *testing.T, dir string) string { return filepath.Join(dir, tensorFile(t, dir)) }

func readRaw(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, File))
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	return raw
}

func writeRaw(t *testing.T, dir string, raw map[string]any) {
	t.Helper()
	b, err := json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, File), b, 0o644))
}

// failEachSaveStage makes a save of m (trained past the checkpoint in dir, saved at step 2 with
// parameters saved) fail at each of its stages in turn, and checks that each failure leaves that
// checkpoint whole and alone in dir.
func failEachSaveStage(t *testing.T, dir string, m Model, opt optim.Optimizer, saved map[string][]uint32) {
	t.Helper()
	for _, stage := range []string{"tensors", "json"} {
		saveHook = func(s string) error {
			if s == stage {
				return errors.New("simulated failure")
			}
			return nil
		}
		err := Save(dir, m, State{Step: 4, Optimizer: opt})
		saveHook = nil
		require.ErrorContains(t, err, "simulated failure", stage)

		ck, err := Load(dir)
		require.NoError(t, err, stage)
		assert.Equal(t, 2, ck.Step, stage)
		got, err := ck.GPT()
		require.NoError(t, err)
		assert.Equal(t, saved, paramBits(got), stage)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 2, "%s: a failed save leaves no files behind", stage)
	}
}

func TestFailedSaveKeepsPrevious(t *testing.T) {
	m := newGPT(t, dropoutConfig(), 1)
	opt := optimizers[0].make(m)
	dir := t.TempDir()
	trainRange(t, m, opt, rand.NewPCG(1, 2), 0, 2)
	require.NoError(t, Save(dir, m, State{Step: 2, Optimizer: opt}))
	saved := paramBits(m)
	trainRange(t, m, opt, rand.NewPCG(1, 2), 2, 4)

	failEachSaveStage(t, dir, m, opt, saved)

	// A save that succeeds replaces the checkpoint and removes the old tensor file.
	old := tensorFile(t, dir)
	require.NoError(t, Save(dir, m, State{Step: 4, Optimizer: opt}))
	assert.NoFileExists(t, filepath.Join(dir, old))
	ck, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, 4, ck.Step)
}

func TestSaveRefusals(t *testing.T) {
	m := newGPT(t, tinyConfig(), 1)
	// A directory that cannot be created (a file is in the way) is an error, not a panic.
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	assert.Error(t, Save(filepath.Join(file, "ckpt"), m, State{}))

	// A frozen view is not a training state.
	assert.ErrorContains(t, Save(t.TempDir(), m.Frozen(), State{}), "frozen")
	assert.ErrorContains(t, Save(t.TempDir(), m, State{Step: -1}), "negative step")
	assert.ErrorContains(t, Save(t.TempDir(), m, State{RNGs: map[string]RNGState{DropoutRNG: rand.NewPCG(1, 1)}}), "reserved")
	assert.ErrorContains(t, Save(t.TempDir(), m, State{RNGs: map[string]RNGState{"data": (*rand.PCG)(nil)}}), `RNG "data" is nil`)
	stranger := optim.NewAdamW(newGPT(t, tinyConfig(), 2).Parameters(), optim.AdamWConfig{})
	assert.ErrorContains(t, Save(t.TempDir(), m, State{Optimizer: stranger}), "not a parameter of the model")
	// a typed nil optimizer is no optimizer
	dir := t.TempDir()
	require.NoError(t, Save(dir, m, State{Optimizer: (*optim.AdamW)(nil)}))
	ck, err := Load(dir)
	require.NoError(t, err)
	_, ok := ck.Optimizer()
	assert.False(t, ok)
}

// A nil model, untyped or typed, is an error for Save and Restore, not a panic.
func TestNilModel(t *testing.T) {
	var nilGPT *model.GPT
	for _, m := range []Model{nil, nilGPT} {
		dir := t.TempDir()
		assert.NotPanics(t, func() { assert.ErrorContains(t, Save(dir, m, State{}), "no model") }, "%T", m)
		assert.NoFileExists(t, filepath.Join(dir, File))
	}
	dir := t.TempDir()
	require.NoError(t, Save(dir, newGPT(t, tinyConfig(), 1), State{}))
	ck, err := Load(dir)
	require.NoError(t, err)
	for _, m := range []Model{nil, nilGPT} {
		assert.NotPanics(t, func() { assert.ErrorContains(t, ck.Restore(m, nil), "no model") }, "%T", m)
	}
}

// A save killed part-way leaves its temporary files (a tensor file, a checkpoint.json.tmp) behind;
// the next successful save removes them, and only files named as ours.
func TestSaveRemovesOrphans(t *testing.T) {
	m := newGPT(t, tinyConfig(), 1)
	dir := t.TempDir()
	require.NoError(t, Save(dir, m, State{Step: 1}))

	// The names a save really uses: those in the directory while it writes checkpoint.json.
	var during []string
	saveHook = func(stage string) error {
		if stage == "json" {
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				during = append(during, e.Name())
			}
		}
		return nil
	}
	err := Save(dir, m, State{Step: 2})
	saveHook = nil
	require.NoError(t, err)
	require.Len(t, during, 4, "checkpoint.json, the old and new tensor files, the JSON's temporary file: %q", during)
	for _, name := range during {
		if name != File {
			assert.True(t, temporary(name), "%s is a name a save leaves behind when killed", name)
		}
	}

	orphans := []string{".checkpoint.json.tmp2718281828", "state-7-3141592653.safetensors"}
	theirs := []string{"state-dict.safetensors", "state-7-x.safetensors", "notes.txt", ".checkpoint.json.tmpl", "checkpoint.json.bak", "model.safetensors"}
	for _, name := range append(slices.Clone(orphans), theirs...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "state-8-1.safetensors"), 0o755)) // not a file: left alone
	require.NoError(t, Save(dir, m, State{Step: 3}))
	for _, name := range orphans {
		assert.NoFileExists(t, filepath.Join(dir, name))
	}
	for _, name := range theirs {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	assert.DirExists(t, filepath.Join(dir, "state-8-1.safetensors"))
	ck, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, 3, ck.Step)
}

func TestCheckDir(t *testing.T) {
	// a directory that cannot be created: a file is in the way
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	assert.ErrorContains(t, CheckDir(filepath.Join(file, "ckpt")), "not a directory")

	// a fresh one is created and left empty; an existing checkpoint is left as it was
	dir := filepath.Join(t.TempDir(), "a", "b")
	require.NoError(t, CheckDir(dir))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
	require.NoError(t, Save(dir, newGPT(t, tinyConfig(), 1), State{Step: 1}))
	before := readRaw(t, dir)
	require.NoError(t, CheckDir(dir))
	assert.Equal(t, before, readRaw(t, dir))
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2)

	// a directory this process may not write to (root may write anywhere: nothing to check)
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		require.NoError(t, os.Chmod(ro, 0o555))
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
		assert.ErrorContains(t, CheckDir(ro), "permission denied")
	}
}
