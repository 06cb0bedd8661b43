package dates

import (
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
)

func TestDataRoundTrips(t *testing.T) {
	v := NewVocab()
	assert.Equal(t, 34, v.Size())
	d := Date{1987, 7, 3}
	want := []string{"3 july 1987", "july 3, 1987", "the 3rd of july 1987", "03/07/1987"}
	for f := range NumFormats {
		s := d.Human(f)
		assert.Equal(t, want[f], s)
		ids, err := v.Encode(s)
		require.NoError(t, err)
		assert.Equal(t, s, v.Decode(ids), "format %d", f)
	}
	ids, err := v.Encode(d.ISO())
	require.NoError(t, err)
	assert.Equal(t, "1987-07-03", v.Decode(ids))
	assert.Equal(t, []string{"the", "2", "1", "st", "of", "may", ",", "2", "0", "1", "3"}, Split("The 21st  of May, 2013"))
	for n, suf := range map[int]string{1: "st", 2: "nd", 3: "rd", 4: "th", 11: "th", 12: "th", 13: "th", 21: "st", 22: "nd", 31: "st"} {
		assert.Equal(t, suf, ordinal(n), "%d", n)
	}

	// the held-out dates are about one in 20, and never drawn for training
	held := 0
	for i := range NumDates {
		if HeldOut(i) {
			held++
		}
	}
	assert.InDelta(t, 0.05, float64(held)/float64(NumDates), 0.01)
	assert.Equal(t, Date{1900, 1, 1}, DateAt(0))
	assert.Equal(t, Date{2099, 12, 31}, DateAt(NumDates-1))
	train := NewSampler(v, 1, false, false)
	for _, day := range train.days {
		require.False(t, HeldOut(day))
	}
	assert.Equal(t, NumDates-held, train.Days())

	bt := MakeBatch([]Example{{Src: []int{5, 6, 7}, Tgt: []int{8}}, {Src: []int{9}, Tgt: []int{10, 11}}})
	assert.Equal(t, []int{5, 6, 7, 9, PadID, PadID}, bt.Src)
	assert.Equal(t, []int{BosID, 8, PadID, BosID, 10, 11}, bt.TgtIn)
	assert.Equal(t, []int{8, EosID, PadID, 10, 11, EosID}, bt.TgtOut)
}

func TestVocabErrorsAndFiles(t *testing.T) {
	v := NewVocab()
	_, err := v.Encode("3 juli 1987")
	assert.ErrorContains(t, err, `unknown token "juli"`)
	assert.ErrorContains(t, err, "january")
	_, err = v.Encode("<s> 1987")
	assert.ErrorContains(t, err, `unknown token "<"`, "special tokens cannot be typed")
	_, err = v.Encode("  ")
	assert.ErrorContains(t, err, "no tokens")
	assert.Equal(t, "?", v.Token(-1))
	assert.Equal(t, "?", v.Token(v.Size()))

	_, err = VocabFrom(nil)
	assert.Error(t, err)
	_, err = VocabFrom([]string{"a", "b", "a"})
	assert.ErrorContains(t, err, `tokens 0 and 2 of the vocabulary are both "a"`)
	_, err = VocabFrom([]string{"a", ""})
	assert.Error(t, err)
	_, err = VocabFrom([]string{"a"}, 3)
	assert.Error(t, err)

	dir := t.TempDir()
	require.NoError(t, SaveVocab(dir, v))
	back, err := LoadVocab(dir, PadID, BosID, EosID)
	require.NoError(t, err)
	ids, err := back.Encode("the 3rd of july 1987")
	require.NoError(t, err)
	want, _ := v.Encode("the 3rd of july 1987")
	assert.Equal(t, want, ids)

	_, err = LoadVocab(t.TempDir())
	assert.ErrorIs(t, err, os.ErrNotExist)
	for name, body := range map[string]string{
		"not JSON":   "{",
		"repeats":    `{"tokens": ["x", "x"]}`,
		"empty":      `{"tokens": []}`,
		"wrong type": `{"tokens": [1, 2]}`,
	} {
		bad := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(bad, VocabFile), []byte(body), 0o644))
		_, err := LoadVocab(bad)
		assert.Error(t, err, name)
	}
}

// quick trains a small model briefly: enough for most held-out dates.
var quick = Config{Steps: 300, Batch: 32, DModel: 32, NHead: 4, FF: 64, EncLayers: 1, DecLayers: 1, LR: 3e-3, Warmup: 30, Seed: 1}

// TestTrainEvaluateAlign trains briefly, then checks that held-out dates are mostly translated
// exactly, that the cross-attention rows are distributions, and that the picture is drawn.
func TestTrainEvaluateAlign(t *testing.T) {
	skipUnderRace(t)
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	ctx := context.Background()
	v := NewVocab()
	m, err := model.NewTransformer(quick.Model(v), quick.Seed)
	require.NoError(t, err)
	tr, err := Train(ctx, m, v, quick, nil)
	require.NoError(t, err)
	require.Len(t, tr.Losses, quick.Steps)
	assert.Less(t, tr.FinalLoss(), tr.Losses[0]/4)
	ev, err := Evaluate(ctx, m, v, Eval{N: 200, Seed: 2, MaxMisses: 3})
	require.NoError(t, err)
	assert.Greater(t, ev.Accuracy(), 0.5)
	assert.LessOrEqual(t, len(ev.Misses), 3)

	a, err := Align(ctx, m, v, "july 4, 1976")
	require.NoError(t, err)
	require.True(t, a.Hyp.Ended)
	assert.Equal(t, EosID, a.Rows[len(a.Rows)-1])
	require.Len(t, a.Cross, quick.DecLayers)
	w := a.Cross[0]
	assert.Equal(t, []int{quick.NHead, len(a.Rows), len(a.Src)}, w.Shape())
	for h := range w.Dim(0) {
		for r := range w.Dim(1) {
			sum := 0.0
			for s := range w.Dim(2) {
				sum += float64(w.At(h, r, s))
			}
			assert.InDelta(t, 1, sum, 1e-5, "head %d row %d", h, r)
		}
	}
	path := filepath.Join(t.TempDir(), "cross.png")
	require.NoError(t, a.Plot(path, v, 0, "cross-attention"))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), img.Bounds().Dy(), "four panels side by side")
	assert.Error(t, a.Plot(path, v, 1, "no such layer"))

	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Train(ctx2, m, v, quick, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, math.IsNaN(tr.Seconds))
}
