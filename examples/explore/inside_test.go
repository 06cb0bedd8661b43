package main

import (
	"math"
	"net/http"
	"testing"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The view's plain forward pass against the model's own: the attention weights of every layer
// and head (model.Inspect) and, run to the end, the logits (model.Forward), on the shipped
// model, on GPT-2's layout with the tanh GELU and sinusoidal positions, and on two Llama-family
// decoders (grouped KV heads; one with Qwen's biases and QK-norm, a head width of its own, Llama
// 3's rope scaling and an untied head).
func TestInsideMatchesTheModel(t *testing.T) {
	shipped, voc, _, err := loadPretrained(pretrainedFile)
	require.NoError(t, err)
	other, err := model.New(model.Config{VocabSize: 11, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 8, GELUTanh: true, Positions: model.PositionsSinusoidal, NoBias: true}, 3)
	require.NoError(t, err)
	llama, err := model.New(model.Config{VocabSize: 13, BlockSize: 16, NLayer: 2, NHead: 6, NKVHead: 2, NEmbd: 12, FFHidden: 20,
		NoBias: true, Norm: model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU, Positions: model.PositionsRotary}, 4)
	require.NoError(t, err)
	qwen, err := model.New(model.Config{VocabSize: 13, BlockSize: 16, NLayer: 2, NHead: 4, NKVHead: 2, NEmbd: 12, HeadDim: 4, FFHidden: 20,
		NoBias: true, QKVBias: true, QKNorm: true, UntiedHead: true, RopeTheta: 500, LayerNormEps: 1e-6,
		RopeScaling: nn.RopeScaling{Type: nn.RopeScalingLlama3, Factor: 4, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8},
		Norm:        model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU, Positions: model.PositionsRotary}, 5)
	require.NoError(t, err)
	for _, m := range []*model.GPT{llama, qwen} { // weights away from their fresh values (norms of 1, zero biases)
		for i, p := range m.Parameters() {
			for j := range p.Value.Data() {
				p.Value.Data()[j] += 0.05 * float32(math.Sin(float64(3*i+7*j)))
			}
		}
	}
	ids, _ := voc.encode("ROMEO:\nWhat light")
	for _, tc := range []struct {
		name string
		m    *model.GPT
		ids  []int
	}{{"shipped", shipped, ids}, {"tanh, sinusoidal, no bias", other, []int{1, 5, 2, 9, 9, 0, 3}},
		{"llama", llama, []int{1, 5, 2, 9, 12, 0, 3, 3, 7}}, {"qwen", qwen, []int{4, 5, 2, 9, 12, 0, 3, 3, 7, 11, 8}}} {
		m, ids := tc.m, tc.ids
		in, err := m.Inspect(ids)
		require.NoError(t, err)
		f, err := newRefForward(m, ids)
		require.NoError(t, err)
		pos := len(ids) - 2
		for l := range m.Config.NLayer {
			var out insideResponse
			f.layer(l, pos, &out)
			for h := range m.Config.NHead {
				for j := 0; j <= pos; j++ {
					assert.InDelta(t, in.Attention[l][h][pos][j], out.Weights[h][j], 2e-4, "%s: layer %d head %d weight %d", tc.name, l, h, j)
				}
			}
			if llamaFamily(m.Config) {
				assert.Len(t, out.MLP, m.Config.FFHidden)
				assert.Equal(t, in.KVHead, out.KVHead)
			} else {
				assert.Len(t, out.MLP, 4*m.Config.NEmbd)
			}
		}
		// the rest of the model: ln_f and the scores against wte (or lm_head)
		logits, err := m.Frozen().Forward(ids, 1, len(ids))
		require.NoError(t, err)
		want := logits.Value.Contiguous().Data()
		v, c := m.Config.VocabSize, m.Config.NEmbd
		wte := f.params[f.wte]
		if head := f.params["lm_head.weight"]; head != nil {
			wte = head
		}
		worst := 0.0
		for i := range ids {
			var x []float64
			if llamaFamily(m.Config) {
				x = f.rmsNorm("model.norm", f.x[i])
			} else {
				x = f.layerNorm("ln_f", f.x[i])
			}
			for tok := range v {
				s := 0.0
				for j := range c {
					s += x[j] * float64(wte[tok*c+j])
				}
				worst = math.Max(worst, math.Abs(s-float64(want[i*v+tok])))
			}
		}
		assert.Less(t, worst, 2e-3, "%s: the logits", tc.name)
	}
}

func TestInsideEndpoint(t *testing.T) {
	_, ts := newTestServer(t, options{})
	var r runResponse
	call(t, ts, "GET", "/api/run?text=ROMEO%3A", nil, &r)
	ids := make([]int, len(r.Tokens))
	for i, tk := range r.Tokens {
		ids[i] = tk.ID
	}
	var out insideResponse
	code, body := call(t, ts, "POST", "/api/inside", map[string]any{"ids": ids, "layer": 1, "pos": 3}, &out)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, pretrainedModel, out.Model)
	assert.Equal(t, "E", out.Token)
	require.Len(t, out.Q, 4)
	assert.Len(t, out.Q[0], 16)
	assert.Len(t, out.Weights[0], 4, "the token and the three before it")
	sum := 0.0
	for _, w := range out.Weights[2] {
		sum += float64(w)
	}
	assert.InDelta(t, 1, sum, 1e-5)
	assert.Len(t, out.MLP, 256)
	for _, bad := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"ids": ids, "layer": 2, "pos": 0}, "layers 0 to 1"},
		{map[string]any{"ids": ids, "layer": 0, "pos": 6}, "positions 0 to 5"},
		{map[string]any{"ids": []int{99}, "layer": 0, "pos": 0}, "outside the vocabulary"},
		{map[string]any{"ids": []int{}, "layer": 0, "pos": 0}, "ids is empty"},
		{map[string]any{"ids": make([]int, 200), "layer": 0, "pos": 0}, "at most"},
	} {
		code, body := call(t, ts, "POST", "/api/inside", bad.body, nil)
		assert.Equal(t, http.StatusBadRequest, code, body)
		assert.Contains(t, body, bad.want)
	}
}
