package model

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tinyConfig() Config {
	return Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8}
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, tinyConfig().Validate())
	bad := tinyConfig()
	bad.NEmbd = 9
	assert.ErrorContains(t, bad.Validate(), "not divisible")
	bad = tinyConfig()
	bad.VocabSize = 0
	assert.ErrorContains(t, bad.Validate(), "VocabSize")
	bad = tinyConfig()
	bad.Dropout = 1
	assert.ErrorContains(t, bad.Validate(), "Dropout")
	_, err := New(bad, 1)
	assert.Error(t, err)
}

func TestParamNamesAndCount(t *testing.T) {
	m, err := New(tinyConfig(), 1)
	require.NoError(t, err)
	names := map[string][]int{}
	for _, p := range m.NamedParams() {
		names[p.Name] = p.Var.Shape()
	}
	assert.Equal(t, []int{11, 8}, names["wte.weight"])
	assert.Equal(t, []int{8, 8}, names["wpe.weight"])
	assert.Equal(t, []int{24, 8}, names["h.1.attn.c_attn.weight"])
	assert.Equal(t, []int{32, 8}, names["h.0.mlp.c_fc.weight"])
	assert.Equal(t, []int{8}, names["ln_f.bias"])
	// V·C + T·C + L·(12C² + 13C) + 2C, the GPT-2 count with biases
	c, l := 8, 2
	assert.Equal(t, 11*c+8*c+l*(12*c*c+13*c)+2*c, m.NumParams())
}

func TestInitialLossIsNearUniform(t *testing.T) {
	m, err := New(tinyConfig(), 3)
	require.NoError(t, err)
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1}
	loss, err := m.Loss(ids, append(ids[1:], 2), 2, 6)
	require.NoError(t, err)
	// with N(0, 0.02) weights the logits are nearly equal: loss ≈ ln V
	assert.InDelta(t, math.Log(11), loss.Item(), 0.05)
}

func TestBadInputIsAnError(t *testing.T) {
	m, err := New(tinyConfig(), 1)
	require.NoError(t, err)
	_, err = m.Forward([]int{1, 11}, 1, 2)
	assert.ErrorContains(t, err, "outside the vocabulary")
	_, err = m.Forward(make([]int, 9), 1, 9)
	assert.ErrorContains(t, err, "longer than the context")
	_, err = m.Forward(nil, 0, 0)
	assert.ErrorContains(t, err, "empty")
	_, err = m.Forward([]int{1, 2, 3}, 2, 2)
	assert.Error(t, err)
	_, err = m.Loss([]int{1, 2}, []int{1, 12}, 1, 2)
	assert.ErrorContains(t, err, "target id 12")
	_, err = m.Loss([]int{1, 2}, []int{-1, -1}, 1, 2)
	assert.Error(t, err)
}

func TestTrainingReducesLoss(t *testing.T) {
	m, err := New(tinyConfig(), 5)
	require.NoError(t, err)
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8}
	targets := []int{2, 3, 4, 5, 6, 7, 8, 9}
	first := float32(0)
	var last float32
	for step := range 60 {
		loss, err := m.Loss(ids, targets, 1, 8)
		require.NoError(t, err)
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
		m.ZeroGrad()
		loss.Backward()
		for _, p := range m.Parameters() {
			g := p.Grad.Data()
			v := p.Value.Data()
			for i := range v {
				v[i] -= 0.5 * g[i]
			}
		}
	}
	assert.Less(t, last, first/4, "plain SGD must overfit one short sequence")
}
