package model

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/goformer/goformer/autograd"
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
	for _, p := range m.Parameters() {
		names[p.Name()] = p.Shape()
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
		zeroGrad(m)
		loss.Backward()
		for _, p := range m.Parameters() {
			g := p.Grad().Data()
			v := p.Value.Data()
			for i := range v {
				v[i] -= 0.5 * g[i]
			}
		}
	}
	assert.Less(t, last, first/4, "plain SGD must overfit one short sequence")
}

// A training step that releases its graph and drops its gradients allocates almost nothing
// once the free lists are warm: every activation, gradient and saved tensor of one step comes
// back for the next. (Before intermediate gradients added into another buffer, gradients passed
// on as views and parameter gradients were recycled, a step of this model allocated 5.4 MB.)
func TestTrainingStepReusesItsBuffers(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops workspaces at random, so allocations are not steady")
	}
	m, err := New(Config{VocabSize: 65, BlockSize: 64, NLayer: 2, NHead: 4, NEmbd: 128}, 1)
	require.NoError(t, err)
	const b, T = 8, 64
	ids, targets := make([]int, b*T), make([]int, b*T)
	for i := range ids {
		ids[i], targets[i] = (i*7)%65, (i*11)%65
	}
	step := func() {
		loss, err := m.Loss(ids, targets, b, T)
		require.NoError(t, err)
		loss.Backward()
		zeroGrad(m)
		autograd.Release(loss)
	}
	step()
	step()
	// no collection in the window: it would empty the matrix kernels' sync.Pool of workspaces
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// the least of a few windows: a stray allocation elsewhere (a helper goroutine starting, a
	// workspace refilled) should not decide the result
	perStep := math.Inf(1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const steps = 3
		for range steps {
			step()
		}
		runtime.ReadMemStats(&after)
		perStep = min(perStep, float64(after.TotalAlloc-before.TotalAlloc)/steps)
	}
	t.Logf("%.0f bytes allocated per step", perStep)
	assert.Less(t, perStep, 1e6, "a step's tensors (about 20 MB) should come from the free lists")
}

// A frozen view computes what the model computes without dropout, records no graph, leaves the
// model's mode alone, and can run in one goroutine while another goroutine trains a different
// model.
func TestFrozenViewEvaluatesWithoutAGraph(t *testing.T) {
	cfg := tinyConfig()
	cfg.Dropout = 0.5
	m, err := New(cfg, 3)
	require.NoError(t, err)
	ids, targets := []int{1, 2, 3, 4, 5, 6}, []int{2, 3, 4, 5, 6, 7}
	frozen := m.Frozen()
	got, err := frozen.Loss(ids, targets, 2, 3)
	require.NoError(t, err)
	assert.False(t, got.RequiresGrad())
	assert.True(t, m.mode.Training, "the model stays in training mode")
	cfg.Dropout = 0
	noDropout, err := New(cfg, 3) // the same weights
	require.NoError(t, err)
	want, err := noDropout.Loss(ids, targets, 2, 3)
	require.NoError(t, err)
	assert.Equal(t, want.Item(), got.Item())
	withDropout, err := m.Loss(ids, targets, 2, 3)
	require.NoError(t, err)
	assert.NotEqual(t, want.Item(), withDropout.Item(), "the model itself trains with dropout")

	other, err := New(tinyConfig(), 4)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if _, err := frozen.Loss(ids, targets, 2, 3); err != nil {
				panic(err)
			}
		}
	}()
	for range 50 {
		loss, err := other.Loss(ids, targets, 2, 3)
		require.NoError(t, err)
		require.True(t, loss.RequiresGrad(), "training is recorded while the frozen view runs")
		loss.Backward()
		zeroGrad(other)
	}
	<-done
}

// zeroGrad drops every parameter's gradient, as an optimiser's ZeroGrad does.
func zeroGrad(m *GPT) {
	for _, p := range m.Parameters() {
		p.ZeroGrad()
	}
}
