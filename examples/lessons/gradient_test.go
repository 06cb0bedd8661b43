package main

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leafLoss64 is the leaf-or-flower network's mean cross-entropy written out in float64 loops,
// with weights by parameter name: the test's own reference, independent of nn and autograd.
func leafLoss64(w map[string][]float64, data []specimen) float64 {
	sum := 0.0
	for _, s := range data {
		in := s.scaled()
		var h [3]float64
		for i := range 3 {
			v := w["hidden.bias"][i]
			for j := range 4 {
				v += w["hidden.weight"][i*4+j] * float64(in[j])
			}
			h[i] = max(0, v)
		}
		var z [2]float64
		for i := range 2 {
			z[i] = w["out.bias"][i]
			for j := range 3 {
				z[i] += w["out.weight"][i*3+j] * h[j]
			}
		}
		want := 0
		if s.flower {
			want = 1
		}
		top := max(z[0], z[1])
		lse := top + math.Log(math.Exp(z[0]-top)+math.Exp(z[1]-top))
		sum += lse - z[want]
	}
	return sum / float64(len(data))
}

// Step 1's gradient with numbers: the loss, the gradient and the update it prints agree with a
// plain float64 computation of the loss and its central difference, and the loss after moving
// every weight is the training's loss after its first step.
func TestOneStepWithNumbers(t *testing.T) {
	n := newLeafNet()
	data := specimens(rand.New(rand.NewPCG(1337, 2)), 30)
	s := measureOneStep(n, data, n.out.Weight, 1, 1, "flower, weight of h2")

	w := map[string][]float64{}
	for name, v := range handWeights {
		for _, x := range v {
			w[name] = append(w[name], float64(x))
		}
	}
	ref := leafLoss64(w, data)
	assert.InDelta(t, ref, s.lossBefore, 1e-6, "the loss before")
	const h = 1e-4
	w["out.weight"][4] = 0.7 + h
	up := leafLoss64(w, data)
	w["out.weight"][4] = 0.7 - h
	down := leafLoss64(w, data)
	slope := (up - down) / (2 * h)
	require.Greater(t, math.Abs(slope), 1e-3, "the chosen weight has a gradient worth showing")
	assert.InDelta(t, slope, s.grad, 1e-5, "autograd's gradient against the float64 central difference")
	assert.InDelta(t, slope, s.slope, 1e-4, "the lesson's own finite difference")
	assert.InDelta(t, 0.7-numbersLR*slope, s.updated, 1e-5)
	w["out.weight"][4] = s.updated
	assert.InDelta(t, leafLoss64(w, data), s.lossAfterOne, 1e-6, "the loss after moving this weight alone")
	assert.Less(t, s.lossAfterOne, s.lossBefore)

	// the weights are as they were, and one training step reaches the loss it printed
	for name, v := range handWeights {
		for _, p := range n.params {
			if p.Name() == name {
				assert.Equal(t, v, p.Value.Data(), name)
			}
		}
	}
	losses, err := n.train(context.Background(), data, 1, nil)
	require.NoError(t, err)
	assert.InDelta(t, s.lossBefore, losses[0], 1e-7)
	assert.InDelta(t, s.lossAfter, losses[1], 1e-6)
}
