package autograd

import (
	"testing"

	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// steps runs a few plain gradient-descent steps of a small network whose intermediates are big
// enough to be recycled, releasing each step's graph or not.
func steps(release bool) []float32 {
	rng := newRNG(30)
	w1 := Param(tensor.RandNormal(rng, 0, 0.3, 64, 48))
	w2 := Param(tensor.RandNormal(rng, 0, 0.3, 48, 64))
	x := Const(tensor.RandNormal(rng, 0, 1, 40, 64))
	targets := make([]int, 40)
	for i := range targets {
		targets[i] = i % 48
	}
	for range 5 {
		h := GELU(LayerNorm(MatMul(x, w1), Const(tensor.Ones(48)), nil, 1e-5))
		loss := CrossEntropy(MatMulT(h, w1), targets, -1)
		loss = Add(loss, MeanAll(Mul(MatMul(h, w2), Const(tensor.Full(0.01, 40, 64)))))
		loss.Backward()
		for _, p := range []*Var{w1, w2} {
			p.Value.AddInPlace(tensor.Scale(p.grad, -0.1)) // as an optimiser reads it, not handing it out
			p.ZeroGrad()
		}
		if release {
			Release(loss)
		}
	}
	return append(w1.Value.Values(), w2.Value.Values()...)
}

func TestReleaseRecyclesWithoutChangingResults(t *testing.T) {
	assert.Equal(t, steps(false), steps(true), "recycled buffers must not change any result")
}

func TestReleaseLeavesLeavesAlone(t *testing.T) {
	w := Param(tensor.Ones(64, 32))
	x := Const(tensor.Ones(8, 64))
	y := MatMul(x, w)
	loss := MeanAll(y)
	loss.Backward()
	Release(loss)
	require.NotNil(t, w.Grad())
	assert.Equal(t, 64*32, len(w.Grad().Values()))
	assert.Equal(t, 64*32, len(w.Value.Values()))
	assert.Equal(t, 8*64, len(x.Value.Values()))
	assert.Nil(t, y.Value, "released values are gone")
}

// The tensors an op keeps for its backward (here layer norm's statistics and the attention
// probabilities) are recycled once Backward has used them, so differentiating the same graph a
// second time is refused with a message; without a graph they are recycled at once.
func TestSavedTensorsAreFreedAfterBackward(t *testing.T) {
	rng := newRNG(31)
	x := Param(tensor.RandNormal(rng, 0, 1, 2, 8, 12))
	w := Const(tensor.Ones(12))
	ln := LayerNorm(x, w, nil, 1e-5)
	att := packedAttention(ln, 2)
	loss := MeanAll(att)
	require.Len(t, ln.saved, 2)
	require.Len(t, att.saved, 1)
	loss.Backward()
	assert.Nil(t, ln.saved)
	assert.Nil(t, att.saved)
	assert.PanicsWithValue(t, "autograd.Backward: the graph through attention was already differentiated and its saved tensors freed; build it again to differentiate it again", func() { loss.Backward() })

	v := packedAttention(LayerNorm(x.Detach(), w, nil, 1e-5), 2)
	assert.Nil(t, v.saved)
	assert.Nil(t, v.backward)
}
