package model

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sequences that join and leave a Decoder's batch between steps get the tokens that Generate
// gives each alone.
func TestDecoderJoinAndLeaveMatchGenerate(t *testing.T) {
	m, err := New(Config{VocabSize: 50, BlockSize: 32, NLayer: 2, NHead: 2, NEmbd: 16}, 3)
	require.NoError(t, err)
	prompts := [][]int{{1, 2, 3}, {4}, {5, 6, 7, 8, 9, 10}}
	starts := []int{0, 2, 3} // the step at which each joins
	stops := []int{9, 5, 12} // tokens each generates
	want := make([][]int, len(prompts))
	for i, p := range prompts {
		want[i], err = m.GenerateAll(context.Background(), p, Sampling{MaxNew: stops[i]})
		require.NoError(t, err)
	}
	d := m.NewDecoder()
	got := make([][]int, len(prompts))
	seqs := make([]*Sequence, len(prompts))
	logits := make([][]float32, len(prompts))
	for step := 0; step < 20; step++ {
		var batch []*Sequence
		var ids, who []int
		for i := range prompts {
			if step == starts[i] {
				seqs[i], logits[i], err = d.Start(prompts[i])
				require.NoError(t, err)
			}
			if seqs[i] == nil || len(got[i]) == stops[i] {
				continue
			}
			tok := argmax(logits[i])
			got[i] = append(got[i], tok)
			if len(got[i]) == stops[i] {
				continue // leaves the batch
			}
			batch, ids, who = append(batch, seqs[i]), append(ids, tok), append(who, i)
		}
		out, err := d.Step(batch, ids)
		require.NoError(t, err)
		for j, i := range who {
			logits[i] = out[j]
		}
	}
	for i := range prompts {
		assert.Equal(t, want[i], got[i], "sequence %d", i)
		assert.Equal(t, len(prompts[i])+stops[i]-1, seqs[i].Len())
	}
	_, err = d.Step([]*Sequence{seqs[0], seqs[0]}, []int{1, 1})
	assert.ErrorContains(t, err, "twice")
	_, _, err = d.Start([]int{60})
	assert.ErrorContains(t, err, "vocabulary")
}
