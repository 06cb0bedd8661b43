package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/optim"
)

// Nothing a caller holds changes under them: a parameter's gradient and its Data slice, a loss
// and its value, and logits from a forward pass keep their contents through full training steps
// whose ZeroGrad and Release recycle storage of the very sizes they have.
func TestHeldValuesSurviveTrainingSteps(t *testing.T) {
	m, err := New(Config{VocabSize: 65, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 64}, 1)
	require.NoError(t, err)
	opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2, WeightDecay: 0.1})
	const b, T = 4, 16
	ids, targets := make([]int, b*T), make([]int, b*T)
	for i := range ids {
		ids[i], targets[i] = (i*7)%65, (i*11)%65
	}
	var weight *autograd.Var // (3C, C): every step's backward makes a tensor of its size
	for _, p := range m.Parameters() {
		if p.Name() == "h.0.attn.c_attn.weight" {
			weight = p
		}
	}
	require.NotNil(t, weight)
	copyOf := func(s []float32) []float32 { return append([]float32(nil), s...) }

	logits, err := m.Forward(ids, b, T) // a graph of its own, never released
	require.NoError(t, err)
	logitsData := logits.Value.Data()
	wantLogits := copyOf(logitsData)
	loss, err := m.Loss(ids, targets, b, T) // kept, never released
	require.NoError(t, err)
	loss.Backward()
	grad := weight.Grad()
	gradData := grad.Data()
	wantGrad, wantLoss := copyOf(gradData), loss.Item()
	optim.ClipGradNorm(m.Parameters(), 1)
	opt.Step()
	opt.ZeroGrad()

	var laterGrad []float32 // a step's gradient, held while later steps run
	var wantLater []float32
	losses := []float32{wantLoss}
	for step := range 4 {
		l, err := m.Loss(ids, targets, b, T)
		require.NoError(t, err)
		l.Backward()
		if step == 1 {
			laterGrad = weight.Grad().Data()
			wantLater = copyOf(laterGrad)
		}
		opt.Step()
		opt.ZeroGrad()
		losses = append(losses, l.Item())
		autograd.Release(l)
		assert.Panics(t, func() { l.Item() }, "what the owner released is gone")
	}
	require.Less(t, losses[4], losses[0], "the steps trained: parameters and gradients changed meanwhile")

	assert.Equal(t, wantGrad, grad.Values())
	assert.Equal(t, wantGrad, gradData)
	assert.Equal(t, wantLater, laterGrad)
	assert.Equal(t, wantLoss, loss.Item())
	assert.Equal(t, wantLogits, logits.Value.Data())
	assert.Equal(t, wantLogits, logitsData)
}
