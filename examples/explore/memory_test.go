package main

import (
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The estimate against what a real training step allocates: the forward and backward pass of
// one batch, measured with the runtime's allocation counter.
func TestMemoryEstimate(t *testing.T) {
	for _, cfg := range []trainConfig{
		{NLayer: 2, NHead: 4, NEmbd: 64, BlockSize: 64, BatchSize: 8},  // the vectors dominate
		{NLayer: 1, NHead: 8, NEmbd: 32, BlockSize: 128, BatchSize: 4}, // the attention weights dominate
		{NLayer: 1, NHead: 2, NEmbd: 16, BlockSize: 32, BatchSize: 16}, // the logits count
	} {
		measureEstimate(t, cfg, 65)
	}
}

func measureEstimate(t *testing.T, cfg trainConfig, v int) {
	m, err := model.New(model.Config{VocabSize: v, BlockSize: cfg.BlockSize, NLayer: cfg.NLayer, NHead: cfg.NHead, NEmbd: cfg.NEmbd}, 1)
	require.NoError(t, err)
	est := estimateMemory(cfg, v)
	assert.Equal(t, int64(4*2*m.NumParams()), est.Params, "the parameter count of the estimate is the model's")

	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int, cfg.BatchSize*cfg.BlockSize)
	for i := range ids {
		ids[i] = rng.IntN(v)
	}
	// what the forward pass keeps alive for the backward pass: the live heap with the graph held,
	// against the live heap before; the median of five passes, so that what the runtime happens
	// to allocate or free meanwhile in one pass does not decide
	var helds []int64
	for range 5 {
		var before, mid runtime.MemStats
		tensor.TrimPool() // buffers recycled from earlier passes would otherwise hide the pass's own
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		loss, err := m.Loss(ids, ids, cfg.BatchSize, cfg.BlockSize)
		require.NoError(t, err)
		// twice, as before the pass: scratch the kernels took from sync.Pools (packing buffers)
		// survives one collection in the pools' victim caches, and is not held for the backward pass
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&mid)
		helds = append(helds, int64(mid.HeapAlloc)-int64(before.HeapAlloc))
		loss.Backward()
		autograd.Release(loss)
	}
	slices.Sort(helds)
	held := helds[len(helds)/2]
	t.Logf("%d layers, %d heads, C %d, T %d, B %d: the forward pass holds %.2f MB; the estimate's activations %.2f MB", cfg.NLayer, cfg.NHead, cfg.NEmbd, cfg.BlockSize, cfg.BatchSize, float64(held)/(1<<20), float64(est.Activations)/(1<<20))
	assert.InDelta(t, 1, float64(est.Activations)/float64(held), 0.3, "the estimate is within 30% of a real step's (it fits to 3%; the rest is room for what other goroutines allocate meanwhile)")

	// larger runs need more
	big := cfg
	big.BatchSize *= 2
	assert.Greater(t, estimateMemory(big, v).Activations, est.Activations)
}

// The request (8 layers, 512 wide, context 256, batch 64, a long text) is refused with
// the estimate in the message, before anything is allocated; the presets pass.
func TestMemoryBound(t *testing.T) {
	_, ts := newTestServer(t, options{})
	text := strings.Repeat("To be, or not to be, that is the question. ", 100)
	code, body := call(t, ts, "POST", "/api/train/start", trainConfig{Text: "custom", CustomText: text,
		NLayer: 8, NHead: 8, NEmbd: 512, BlockSize: 256, BatchSize: 64, MaxIters: 10}, nil)
	assert.Equal(t, http.StatusBadRequest, code, body)
	assert.Contains(t, body, "this run would need about")
	assert.Contains(t, body, "GB of memory")
	assert.Contains(t, body, "the page allows 3.0 GB")
	var st trainStatus
	call(t, ts, "GET", "/api/train", nil, &st)
	assert.Equal(t, 0, st.Run, "no run was started")
	for name, p := range presets() {
		assert.Less(t, estimateMemory(p, 4096).total(), int64(maxTrainBytes), name)
	}
}
