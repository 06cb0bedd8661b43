package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCropBlockSizeKeepsTheFirstPositions(t *testing.T) {
	m, err := New(tinyConfig(), 8) // block 8
	require.NoError(t, err)
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	want, err := m.Frozen().Forward(ids, 2, 5)
	require.NoError(t, err)

	require.Error(t, m.CropBlockSize(0))
	require.Error(t, m.CropBlockSize(9))
	require.NoError(t, m.CropBlockSize(5))
	assert.Equal(t, 5, m.Config.BlockSize)
	assert.Equal(t, []int{5, 8}, m.WPE.Weight.Value.Shape())
	got, err := m.Frozen().Forward(ids, 2, 5)
	require.NoError(t, err)
	assert.Equal(t, want.Value.Values(), got.Value.Values())
	assert.Contains(t, m.Parameters(), m.WPE.Weight, "the cropped table is the parameter listed")
	_, err = m.Forward([]int{1, 2, 3, 4, 5, 6}, 1, 6)
	assert.ErrorContains(t, err, "6", "a sequence longer than the cropped context is an error")
}

func TestSetDropout(t *testing.T) {
	m, err := New(tinyConfig(), 9)
	require.NoError(t, err)
	ids := []int{1, 2, 3, 4, 5, 6}
	params := m.Parameters()
	a, _ := m.Forward(ids, 1, 6)
	b, _ := m.Forward(ids, 1, 6)
	assert.Equal(t, a.Value.Values(), b.Value.Values(), "no dropout: training forwards agree")

	require.Error(t, m.SetDropout(1))
	require.Error(t, m.SetDropout(-0.1))
	require.NoError(t, m.SetDropout(0.3))
	assert.Equal(t, float32(0.3), m.Config.Dropout)
	a, _ = m.Forward(ids, 1, 6)
	b, _ = m.Forward(ids, 1, 6)
	assert.NotEqual(t, a.Value.Values(), b.Value.Values(), "dropout draws a new mask each time")
	assert.Equal(t, params, m.Parameters(), "the parameters are the same Vars")
	f := m.Frozen()
	a, _ = f.Forward(ids, 1, 6)
	b, _ = f.Forward(ids, 1, 6)
	assert.Equal(t, a.Value.Values(), b.Value.Values(), "a frozen view has no dropout")

	// a model loaded from Hugging Face files trains with dropout, from a generator a checkpoint
	// can save
	dir := t.TempDir()
	require.NoError(t, SaveHF(m, dir))
	hf, err := LoadHF(dir)
	require.NoError(t, err)
	require.NoError(t, hf.SetDropout(0.2))
	_, err = hf.Forward(ids, 1, 6)
	require.NoError(t, err)
	assert.NotNil(t, hf.DropoutRNG())
}
