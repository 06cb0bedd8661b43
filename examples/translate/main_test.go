package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/examples/internal/dates"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/model"
)

// quick is a short run (a couple of seconds): a small model, a few hundred steps.
var quick = []string{"-steps", "300", "-batch", "32", "-d-model", "32", "-ff", "64", "-heads", "4",
	"-enc-layers", "1", "-dec-layers", "1", "-lr", "3e-3", "-warmup", "30", "-eval", "200", "-log-every", "100"}

// TestShortRunLearnsDates trains briefly and checks that the model already translates most
// held-out dates exactly (the full run reaches 100%), that its outputs look like ISO dates, and
// that the attention plot and the saved model come out.
func TestShortRunLearnsDates(t *testing.T) {
	skipUnderRace(t)
	dir := t.TempDir()
	pngPath, saveDir := filepath.Join(dir, "attn.png"), filepath.Join(dir, "model")
	var out bytes.Buffer
	args := append(append([]string{}, quick...), "-text", "3 july 1987", "-text", "december 25, 2024",
		"-attn", pngPath, "-save", saveDir)
	res, err := runResult(args, &out, &out)
	require.NoError(t, err, out.String())
	t.Log(out.String())
	assert.Contains(t, out.String(), "step   300/300")
	assert.Greater(t, res.accuracy, 0.5, "held-out exact match after 300 steps")
	assert.Less(t, res.finalLoss, 0.5)
	iso := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	require.Len(t, res.translations, 2)
	for _, tr := range res.translations {
		assert.Regexp(t, iso, tr)
	}

	f, err := os.Open(pngPath)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), img.Bounds().Dy(), "four panels side by side")

	m, err := model.LoadTransformer(saveDir)
	require.NoError(t, err)
	assert.Equal(t, 32, m.Config.DModel)
	v, err := dates.LoadVocab(saveDir, m.Config.PadID, m.Config.BosID, m.Config.EosID)
	require.NoError(t, err, "the vocabulary is saved beside the model")
	assert.Equal(t, dates.NewVocab().Tokens([]int{0, 1, 2, 3}), v.Tokens([]int{0, 1, 2, 3}))
	got, err := dates.Translate(context.Background(), m, v, "3 july 1987", 1)
	require.NoError(t, err)
	assert.Equal(t, res.translations[0], got, "the saved model translates as the trained one")
}

func TestBadFlagsAndText(t *testing.T) {
	var out bytes.Buffer
	_, err := runResult([]string{"-steps", "-1"}, &out, &out)
	assert.Error(t, err)
	_, err = runResult([]string{"stray"}, &out, &out)
	assert.ErrorContains(t, err, "unexpected arguments")
	_, err = runResult([]string{"-steps", "0", "-eval", "0", "-text", "3 juli 1987"}, &out, &out)
	assert.ErrorContains(t, err, `unknown token "juli"`)
	_, err = runResult([]string{"-steps", "0", "-eval", "0", "-heads", "5"}, &out, &out)
	assert.ErrorContains(t, err, "not divisible")
}

// A learning rate that makes training diverge stops the run with an error and a failing exit,
// before the save: a good model saved earlier in -save stays as it was (it used to be
// overwritten with NaN weights, with "model saved" printed and exit status 0).
func TestDivergingRunKeepsTheSavedModel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "model")
	tiny := []string{"-batch", "8", "-d-model", "16", "-ff", "16", "-heads", "2", "-enc-layers", "1", "-dec-layers", "1",
		"-eval", "0", "-log-every", "10", "-save", dir}
	var out bytes.Buffer
	_, err := runResult(append([]string{"-steps", "2"}, tiny...), &out, &out)
	require.NoError(t, err, out.String())
	before := map[string][]byte{}
	for _, name := range []string{"config.json", "model.safetensors", "vocab.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		before[name] = b
	}

	out.Reset()
	_, err = runResult(append([]string{"-steps", "20", "-lr", "1e9", "-warmup", "0"}, tiny...), &out, &out)
	require.ErrorIs(t, err, trainloop.ErrDiverged, out.String())
	assert.NotContains(t, out.String(), "model saved")
	for name, b := range before {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, b, got, "%s is untouched", name)
	}
}

// Flags out of range are refused with a message naming the flag, before anything runs; so is a
// model too large to allocate (it used to die of out-of-memory).
func TestBadTrainingFlagsAreRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-lr", "NaN"}, "-lr must be positive, got NaN"},
		{[]string{"-lr", "-1"}, "-lr must be positive, got -1"},
		{[]string{"-lr", "+Inf"}, "-lr must be positive"},
		{[]string{"-threads", "-2"}, "-threads must be >= 0"},
		{[]string{"-warmup", "-5"}, "-warmup must be >= 0"},
		{[]string{"-steps", "-1"}, "-steps must be >= 0"},
		{[]string{"-batch", "0"}, "-batch must be positive"},
		{[]string{"-d-model", "100000000"}, "parameters"},
	} {
		var out bytes.Buffer
		var err error
		require.NotPanics(t, func() { _, err = runResult(append([]string{"-eval", "0"}, c.args...), &out, &out) })
		assert.ErrorContains(t, err, c.want, "%v", c.args)
		assert.NotContains(t, out.String(), "step ", "%v: nothing trained", c.args)
	}
}
