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
