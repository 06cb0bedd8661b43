package checkpoint

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/optim"
)

func tinyConfig() model.Config {
	return model.Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8}
}

func dropoutConfig() model.Config {
	c := tinyConfig()
	c.Dropout = 0.2
	return c
}

func newGPT(t testing.TB, cfg model.Config, seed uint64) *model.GPT {
	t.Helper()
	m, err := model.New(cfg, seed)
	require.NoError(t, err)
	return m
}

// optimizers are the two kinds a run may checkpoint, each with momentum-like state that a resume
// must carry over.
var optimizers = []struct {
	name string
	make func(m *model.GPT) optim.Optimizer
}{
	{optim.KindAdamW, func(m *model.GPT) optim.Optimizer {
		return optim.NewAdamW(m.Parameters(), optim.AdamWConfig{LR: 1e-2, Betas: [2]float32{0.9, 0.99}, WeightDecay: 0.1})
	}},
	{optim.KindSGD, func(m *model.GPT) optim.Optimizer {
		return optim.NewSGD(m.Parameters(), optim.SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3})
	}},
}

// trainRange runs iterations [from, to) of a small training loop whose batches are drawn from
// data, and returns their losses.
func trainRange(t testing.TB, m *model.GPT, opt optim.Optimizer, data *rand.PCG, from, to int) []float32 {
	t.Helper()
	var losses []float32
	const b, tt = 3, 5
	rng := rand.New(data)
	sched := optim.CosineSchedule{WarmupIters: 2, DecayIters: 10, MaxLR: 1e-2, MinLR: 1e-3}
	for it := from; it < to; it++ {
		ids := make([]int, b*tt)
		targets := make([]int, b*tt)
		for i := range ids {
			ids[i] = rng.IntN(m.Config.VocabSize)
			targets[i] = (ids[i]*3 + 1) % m.Config.VocabSize
		}
		loss, err := m.Loss(ids, targets, b, tt)
		require.NoError(t, err)
		losses = append(losses, loss.Item())
		loss.Backward()
		optim.ClipGradNorm(m.Parameters(), 1.0)
		opt.SetLR(sched.LR(it))
		opt.Step()
		opt.ZeroGrad()
	}
	return losses
}

func paramBits(m Model) map[string][]uint32 { return varBits(m.Parameters()) }

// varBits returns the bits of the values of vs, by name.
func varBits(vs []*autograd.Var) map[string][]uint32 {
	out := map[string][]uint32{}
	for _, p := range vs {
		for _, v := range p.Value.Values() {
			out[p.Name()] = append(out[p.Name()], math.Float32bits(v))
		}
	}
	return out
}

// N steps straight and N/2 steps, a save, a load into a model and optimizer built fresh with
// another seed, and N/2 more steps give the same parameters to the bit, with AdamW and with SGD;
// and each part of the saved state is needed for that.
func TestResumeIsBitwiseIdentical(t *testing.T) {
	t.Run("gpt2", func(t *testing.T) { testResume(t, dropoutConfig()) })
	t.Run("llama", func(t *testing.T) { testResume(t, llamaDropoutConfig()) })
}

// llamaDropoutConfig is a small Llama-family config (RMSNorm, rotary positions, SwiGLU, grouped KV
// heads, QK-norm, an untied head) with dropout.
func llamaDropoutConfig() model.Config {
	return model.Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 4, NEmbd: 8, Dropout: 0.2, NoBias: true,
		Positions: model.PositionsRotary, Norm: model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU,
		FFHidden: 12, NKVHead: 2, HeadDim: 4, QKNorm: true, UntiedHead: true}
}

func testResume(t *testing.T, cfg model.Config) {
	const n = 8
	for _, o := range optimizers {
		t.Run(o.name, func(t *testing.T) {
			straight := newGPT(t, cfg, 1)
			trainRange(t, straight, o.make(straight), rand.NewPCG(5, 6), 0, n)

			first := newGPT(t, cfg, 1)
			opt := o.make(first)
			data := rand.NewPCG(5, 6)
			trainRange(t, first, opt, data, 0, n/2)
			dir := t.TempDir()
			require.NoError(t, Save(dir, first, State{
				Step: n / 2, Optimizer: opt, RNGs: map[string]RNGState{"data": data}, Meta: map[string]string{"vocab": "abc\n"},
			}))

			ck, err := Load(dir)
			require.NoError(t, err)
			assert.Equal(t, KindGPT, ck.Kind)
			assert.Equal(t, n/2, ck.Step)
			assert.Equal(t, "abc\n", ck.Meta["vocab"])
			oc, ok := ck.Optimizer()
			require.True(t, ok)
			saved := opt.State()
			assert.Equal(t, o.name, oc.Kind)
			assert.Equal(t, saved.Hyper, oc.Hyper, "the hyperparameters, the learning rate at the save among them")
			var decayed []string
			for i, p := range opt.Params() {
				if saved.Decay[i] {
					decayed = append(decayed, p.Name())
				}
			}
			assert.Equal(t, decayed, oc.Decayed)

			// Resume into a model and optimizer built fresh, with another seed, and a data
			// generator in another state: everything that matters must come from the checkpoint.
			type variant struct{ scrambleDropout, skipOptimizer bool }
			resume := func(v variant) *model.GPT {
				m := newGPT(t, cfg, 99)
				o2 := o.make(m)
				if v.skipOptimizer {
					require.NoError(t, ck.Restore(m, nil))
				} else {
					require.NoError(t, ck.Restore(m, o2))
					assert.Equal(t, opt.LR(), o2.LR())
					assert.Equal(t, saved, o2.State())
				}
				if v.scrambleDropout {
					m.DropoutRNG().Seed(7, 7)
				}
				d := rand.NewPCG(0, 0)
				require.NoError(t, ck.RestoreRNG("data", d))
				trainRange(t, m, o2, d, ck.Step, n)
				return m
			}
			want := paramBits(straight)
			assert.Equal(t, want, paramBits(resume(variant{})))
			// The test can fail: without the dropout generator's state, or without the
			// optimizer's, training diverges.
			assert.NotEqual(t, want, paramBits(resume(variant{scrambleDropout: true})))
			assert.NotEqual(t, want, paramBits(resume(variant{skipOptimizer: true})))

			// GPT builds the saved model; resuming on it is the same run.
			m, err := ck.GPT()
			require.NoError(t, err)
			assert.Equal(t, paramBits(first), paramBits(m))
			o3 := o.make(m)
			require.NoError(t, ck.Restore(m, o3))
			d := rand.NewPCG(0, 0)
			require.NoError(t, ck.RestoreRNG("data", d))
			trainRange(t, m, o3, d, ck.Step, n)
			assert.Equal(t, want, paramBits(m))
		})
	}
}

// An SGD whose momentum buffers do not exist yet (no step taken) saves none, and restores none;
// an optimizer over some of the model's parameters saves and restores just those.
func TestOptimizerWithoutSlotsOrOverSomeParameters(t *testing.T) {
	m := newGPT(t, tinyConfig(), 1)
	ps := m.Parameters()
	sgd := optim.NewSGD(ps[:3], optim.SGDConfig{LR: 0.5, Momentum: 0.9})
	dir := t.TempDir()
	require.NoError(t, Save(dir, m, State{Optimizer: sgd}))
	ck, err := Load(dir)
	require.NoError(t, err)
	for _, name := range ck.tensorNames() {
		assert.NotContains(t, name, optimPrefix, "no momentum yet, no tensors")
	}

	m2 := newGPT(t, tinyConfig(), 2)
	ps2 := m2.Parameters()
	restored := optim.NewSGD(ps2[:3], optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	require.NoError(t, ck.Restore(m2, restored))
	assert.Equal(t, sgd.State(), restored.State())

	// the optimizer's parameters must all have saved state
	more := optim.NewSGD(ps2[:4], optim.SGDConfig{Momentum: 0.9})
	assert.ErrorContains(t, ck.Restore(m2, more), "no optimizer state for "+ps2[3].Name())
	// and must be the model's
	stranger := optim.NewSGD(newGPT(t, tinyConfig(), 3).Parameters()[:1], optim.SGDConfig{})
	assert.ErrorContains(t, ck.Restore(m2, stranger), "not a parameter of the model")
	// and of the saved kind
	m3 := newGPT(t, tinyConfig(), 4)
	before := paramBits(m3)
	assert.ErrorContains(t, ck.Restore(m3, optim.NewAdamW(m3.Parameters()[:3], optim.AdamWConfig{})), `kind "sgd"`)
	assert.Equal(t, before, paramBits(m3), "a failed Restore changes nothing")
}

// tensorNames lists the names in the checkpoint's tensor file.
func (c *Checkpoint) tensorNames() []string {
	var out []string
	for name := range c.params {
		out = append(out, name)
	}
	for name := range c.slots {
		out = append(out, name)
	}
	return out
}

func TestWeightsOnly(t *testing.T) {
	m := newGPT(t, tinyConfig(), 4)
	dir := t.TempDir()
	require.NoError(t, Save(dir, m, State{}))
	ck, err := Load(dir)
	require.NoError(t, err)
	_, ok := ck.Optimizer()
	assert.False(t, ok)
	m2 := newGPT(t, tinyConfig(), 5)
	assert.ErrorContains(t, ck.Restore(m2, optim.NewAdamW(m2.Parameters(), optim.AdamWConfig{})), "no optimizer state")
	assert.NotEqual(t, paramBits(m), paramBits(m2), "a failed Restore changes nothing")
	require.NoError(t, ck.Restore(m2, nil))
	assert.Equal(t, paramBits(m), paramBits(m2))
	assert.ErrorContains(t, ck.RestoreRNG("data", rand.NewPCG(1, 1)), "no RNG")

	// The tensor file is plain safetensors with Hugging Face names.
	ts, _, err := loadSafetensors(tensorPath(t, dir))
	require.NoError(t, err)
	assert.Contains(t, ts, "h.1.mlp.c_proj.weight")

	// Restore wants the same architecture: another width, or another head count (the same
	// shapes), is refused; another dropout is not.
	other := tinyConfig()
	other.NEmbd = 12
	assert.ErrorContains(t, ck.Restore(newGPT(t, other, 1), nil), "does not match")
	other = tinyConfig()
	other.NHead = 4
	assert.ErrorContains(t, ck.Restore(newGPT(t, other, 1), nil), "does not match")
	assert.NoError(t, ck.Restore(newGPT(t, dropoutConfig(), 1), nil))
	// a frozen view has no training state
	assert.ErrorContains(t, ck.Restore(m2.Frozen(), nil), "frozen")
}
