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

// Discard hands an inference op's output back at once: the next op of that size gets the same
// storage, not fresh memory.
func TestDiscardRecyclesAnInferenceOutput(t *testing.T) {
	a, b := Const(tensor.Ones(4, 1024)), Const(tensor.Ones(4, 1024))
	y := Add(a, b)
	first := &y.Value.Data()[0]
	Discard(y)
	assert.Nil(t, y.Value, "a discarded value is gone")
	z := Mul(a, b)
	assert.Same(t, first, &z.Value.Data()[0], "the next output of that size reuses the storage")
	assert.Equal(t, float32(1), z.Value.Data()[5])
}

// Discard leaves alone what it must not recycle: parameters, constants, views (which may be of a
// parameter) and outputs in a graph that a backward pass still needs.
func TestDiscardLeavesOthersAlone(t *testing.T) {
	w := Param(tensor.Ones(8, 256))
	x := Const(tensor.Full(2, 8, 256))
	inGraph := Mul(x, w)
	view := Reshape(w.Detach(), 256, 8)
	Discard(w, x, inGraph, view, nil)
	assert.Equal(t, float32(1), w.Value.Data()[0])
	assert.Equal(t, float32(2), x.Value.Data()[0])
	assert.Equal(t, float32(2), inGraph.Value.Data()[0])
	MeanAll(inGraph).Backward()
	assert.Equal(t, float32(2)/(8*256), w.Grad().Data()[0])
	Discard(view)
	assert.Equal(t, float32(1), w.Value.Data()[7], "a view's storage is the parameter's")
}
