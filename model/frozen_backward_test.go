package model

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
)

// backwardPanic runs loss.Backward and returns what it panicked with ("" if it did not).
func backwardPanic(loss *autograd.Var) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	loss.Backward()
	return ""
}

// A loss on a frozen view has no graph. Backward on it is a programmer error, as in PyTorch
// ("element 0 of tensors does not require grad"): it panics with a message naming the cause and
// the views, for every model and every view alike, and leaves the model's gradients untouched.
func TestBackwardOnAFrozenViewsLossSaysWhy(t *testing.T) {
	gpt, err := New(tinyConfig(), 1)
	require.NoError(t, err)
	int8View, err := gpt.Compact(Int8)
	require.NoError(t, err)
	ids, targets := []int{1, 2, 3, 4, 5, 6}, []int{2, 3, 4, 5, 6, 7}
	for name, v := range map[string]*GPT{"Frozen": gpt.Frozen(), "Snapshot": gpt.Snapshot(), "Compact": int8View} {
		loss, err := v.Loss(ids, targets, 2, 3)
		require.NoError(t, err)
		assert.False(t, loss.RequiresGrad(), name)
		msg := backwardPanic(loss)
		assert.Contains(t, msg, "does not require grad", "GPT %s", name)
		assert.Contains(t, msg, "frozen view", "GPT %s", name)
	}
	for _, p := range gpt.Parameters() {
		assert.Nil(t, p.Grad(), p.Name())
	}

	tr, err := NewTransformer(tinyTransformerConfig(), 1)
	require.NoError(t, err)
	for name, v := range map[string]*Transformer{"Frozen": tr.Frozen(), "Snapshot": tr.Snapshot()} {
		loss, err := v.Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
		require.NoError(t, err)
		assert.False(t, loss.RequiresGrad(), name)
		msg := backwardPanic(loss)
		assert.Contains(t, msg, "does not require grad", "Transformer %s", name)
		assert.Contains(t, msg, "frozen view", "Transformer %s", name)
	}
	for _, p := range tr.Parameters() {
		assert.Nil(t, p.Grad(), p.Name())
	}
	// the trainable models' losses still have their graphs
	loss, err := gpt.Loss(ids, targets, 2, 3)
	require.NoError(t, err)
	assert.Empty(t, backwardPanic(loss))
	tloss, err := tr.Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
	require.NoError(t, err)
	assert.Empty(t, backwardPanic(tloss))
}
