package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
)

// quick is a short run (a couple of seconds): a small model, a few hundred steps.
var quick = []string{"-steps", "300", "-batch", "32", "-d-model", "32", "-ff", "64", "-heads", "4",
	"-enc-layers", "1", "-dec-layers", "1", "-lr", "3e-3", "-warmup", "30", "-eval", "200", "-log-every", "100"}

// TestShortRunLearnsDates trains briefly and checks that the model already translates most
// held-out dates exactly (the full run reaches 100%), that its outputs look like ISO dates, and
// that the attention plot and the saved model come out.
func TestShortRunLearnsDates(t *testing.T) {
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

func TestDataRoundTrips(t *testing.T) {
	v := newVocab()
	d := date{1987, 7, 3}
	want := []string{"3 july 1987", "july 3, 1987", "the 3rd of july 1987", "03/07/1987"}
	for f := range numFormats {
		s := d.human(f)
		assert.Equal(t, want[f], s)
		ids, err := v.encode(s)
		require.NoError(t, err)
		assert.Equal(t, s, v.decode(ids), "format %d", f)
	}
	ids, err := v.encode(d.iso())
	require.NoError(t, err)
	assert.Equal(t, "1987-07-03", v.decode(ids))
	assert.Equal(t, []string{"the", "2", "1", "st", "of", "may", ",", "2", "0", "1", "3"}, split("The 21st  of May, 2013"))
	for n, suf := range map[int]string{1: "st", 2: "nd", 3: "rd", 4: "th", 11: "th", 12: "th", 13: "th", 21: "st", 22: "nd", 31: "st"} {
		assert.Equal(t, suf, ordinal(n), "%d", n)
	}

	// the held-out dates are about one in 20, and never drawn for training
	held := 0
	for i := range numDates {
		if heldOut(i) {
			held++
		}
	}
	assert.InDelta(t, 0.05, float64(held)/float64(numDates), 0.01)
	assert.Equal(t, date{1900, 1, 1}, dateAt(0))
	assert.Equal(t, date{2099, 12, 31}, dateAt(numDates-1))
	train := newSampler(v, 1, false, false)
	for _, day := range train.days {
		require.False(t, heldOut(day))
	}

	bt := makeBatch([]example{{src: []int{5, 6, 7}, tgt: []int{8}}, {src: []int{9}, tgt: []int{10, 11}}})
	assert.Equal(t, []int{5, 6, 7, 9, padID, padID}, bt.src)
	assert.Equal(t, []int{bosID, 8, padID, bosID, 10, 11}, bt.tgtIn)
	assert.Equal(t, []int{8, eosID, padID, 10, 11, eosID}, bt.tgtOut)
}
