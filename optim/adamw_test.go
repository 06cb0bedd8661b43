package optim

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// testGrad is a deterministic gradient for parameter i at step s, varying in sign and scale.
func testGrad(p *autograd.Var, i, s int) *tensor.Tensor {
	r := rng(uint64(1000*i + s))
	return tensor.RandNormal(r, 0, float32(math.Pow(10, float64(i%3-1))), p.Value.Shape()...)
}

// setGrad gives p exactly the gradient g, the way a program does: through a loss whose gradient
// it is, Σ p·g (the backward pass multiplies g by ones).
func setGrad(p *autograd.Var, g *tensor.Tensor) {
	p.ZeroGrad()
	autograd.SumAll(autograd.Mul(p, autograd.Const(g))).Backward()
}

func newParams(seed uint64, shapes ...[]int) []*autograd.Var {
	r := rng(seed)
	ps := make([]*autograd.Var, len(shapes))
	for i, s := range shapes {
		ps[i] = autograd.Param(tensor.RandNormal(r, 0, 1, s...))
	}
	return ps
}

// refAdamW is an independent float64 implementation of torch.optim.AdamW's update (the
// formulas of the PyTorch documentation), kept per parameter.
type refAdamW struct {
	lr, b1, b2, eps, wd float64
	decay               []bool
	p, m, v             [][]float64
	t                   []int
}

func newRefAdamW(params []*autograd.Var, lr, b1, b2, eps, wd float64, decay func(*autograd.Var) bool) *refAdamW {
	r := &refAdamW{lr: lr, b1: b1, b2: b2, eps: eps, wd: wd}
	for _, p := range params {
		vals := p.Value.Values()
		pf := make([]float64, len(vals))
		for j, x := range vals {
			pf[j] = float64(x)
		}
		r.p = append(r.p, pf)
		r.m = append(r.m, make([]float64, len(vals)))
		r.v = append(r.v, make([]float64, len(vals)))
		r.t = append(r.t, 0)
		r.decay = append(r.decay, decay(p))
	}
	return r
}

func (r *refAdamW) step(grads []*tensor.Tensor) {
	for i, gt := range grads {
		if gt == nil {
			continue
		}
		r.t[i]++
		t := float64(r.t[i])
		for j, g32 := range gt.Values() {
			g := float64(g32)
			if r.decay[i] {
				r.p[i][j] -= r.lr * r.wd * r.p[i][j]
			}
			r.m[i][j] = r.b1*r.m[i][j] + (1-r.b1)*g
			r.v[i][j] = r.b2*r.v[i][j] + (1-r.b2)*g*g
			mhat := r.m[i][j] / (1 - math.Pow(r.b1, t))
			vhat := r.v[i][j] / (1 - math.Pow(r.b2, t))
			r.p[i][j] -= r.lr * mhat / (math.Sqrt(vhat) + r.eps)
		}
	}
}

func TestAdamWMatchesReference(t *testing.T) {
	shapes := [][]int{{4, 3}, {3}, {2, 2, 2}, {1}, {7}}
	cases := []struct {
		name   string
		cfg    AdamWConfig
		lr, b1 float64
		b2     float64
		eps    float64
		wd     float64
		decay  func(*autograd.Var) bool
	}{
		{"defaults", AdamWConfig{}, 1e-3, 0.9, 0.999, 1e-8, 0, DecayMatrices},
		// The configuration of the HF fixture's AdamW steps (and nanoGPT's): decay on ≥2-D only.
		{"gpt2 recipe", AdamWConfig{LR: 1e-3, Betas: [2]float32{0.9, 0.95}, Eps: 1e-8, WeightDecay: 0.1}, 1e-3, 0.9, 0.95, 1e-8, 0.1, DecayMatrices},
		{"decay all, big lr, big eps", AdamWConfig{LR: 0.05, Betas: [2]float32{0.8, 0.99}, Eps: 1e-2, WeightDecay: 0.5, Decay: DecayAll}, 0.05, 0.8, 0.99, 1e-2, 0.5, DecayAll},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := newParams(1, shapes...)
			ref := newRefAdamW(params, c.lr, c.b1, c.b2, c.eps, c.wd, c.decay)
			opt := NewAdamW(params, c.cfg)
			for s := range 6 {
				grads := make([]*tensor.Tensor, len(params))
				for i, p := range params {
					// Parameter 3 has no gradient on steps 1 and 2: it must be skipped and its bias
					// correction must count only its own steps.
					if i == 3 && (s == 1 || s == 2) {
						p.ZeroGrad()
						continue
					}
					grads[i] = testGrad(p, i, s)
					setGrad(p, grads[i].Clone())
				}
				opt.Step()
				ref.step(grads)
				for i, p := range params {
					for j, got := range p.Value.Values() {
						want := ref.p[i][j]
						// float32 storage rounds each step (≤ 6e-8·|p|) and the float32 update
						// differs from float64 by a few ulps of lr: 1e-6 absolute covers six steps
						// with room while still catching a wrong bias correction (≥ 1e-4 here).
						require.InDelta(t, want, float64(got), 1e-6+1e-6*math.Abs(want), "step %d param %d elem %d", s, i, j)
					}
				}
			}
			st := opt.State()
			assert.Equal(t, []int{6, 6, 6, 4, 6}, st.Steps)
		})
	}
}

func TestAdamWDecayGroups(t *testing.T) {
	params := newParams(2, []int{2, 3}, []int{3}, []int{1, 1})
	opt := NewAdamW(params, AdamWConfig{WeightDecay: 0.1})
	assert.Equal(t, []bool{true, false, true}, opt.State().Decay)
	// With a zero gradient the only change is the decay: p·(1 − lr·wd) on decayed tensors.
	before := [][]float32{params[0].Value.Values(), params[1].Value.Values()}
	for _, p := range params {
		setGrad(p, tensor.Zeros(p.Value.Shape()...))
	}
	opt.SetLR(0.5)
	assert.Equal(t, float32(0.5), opt.LR())
	opt.Step()
	for j, x := range params[0].Value.Values() {
		assert.InDelta(t, float64(before[0][j])*0.95, float64(x), 1e-6)
	}
	assert.Equal(t, before[1], params[1].Value.Values(), "1-D parameters are not decayed by default")

	cfg := NewAdamW(params, AdamWConfig{}).Config()
	assert.Equal(t, float32(1e-3), cfg.LR)
	assert.Equal(t, [2]float32{0.9, 0.999}, cfg.Betas)
	assert.Equal(t, float32(1e-8), cfg.Eps)
	assert.Equal(t, float32(0), cfg.WeightDecay)

	assert.Panics(t, func() { NewAdamW([]*autograd.Var{params[0], params[0]}, AdamWConfig{}) })
	assert.Panics(t, func() { NewAdamW([]*autograd.Var{nil}, AdamWConfig{}) })
}

// Resuming from a checkpoint (parameters and optimiser state written to safetensors and read
// back into fresh objects) continues bit for bit as if training had never stopped.
func TestAdamWStateRoundTrip(t *testing.T) {
	shapes := [][]int{{5, 4}, {4}, {300, 257}} // the last is big enough to be split across goroutines
	const n = 8
	cfg := AdamWConfig{LR: 3e-3, Betas: [2]float32{0.9, 0.95}, WeightDecay: 0.1}
	run := func(params []*autograd.Var, opt *AdamW, from, to int) {
		for s := from; s < to; s++ {
			for i, p := range params {
				if i == 1 && s == 2 {
					continue // a step without a gradient for one parameter
				}
				setGrad(p, testGrad(p, i, s))
			}
			opt.SetLR(CosineSchedule{WarmupIters: 2, DecayIters: n, MaxLR: 3e-3, MinLR: 3e-4}.LR(s))
			opt.Step()
			opt.ZeroGrad()
		}
	}

	straight := newParams(3, shapes...)
	run(straight, NewAdamW(straight, cfg), 0, n)

	first := newParams(3, shapes...)
	opt := NewAdamW(first, cfg)
	run(first, opt, 0, n/2)
	// Checkpoint through safetensors: parameters, moments, and step counts in the metadata.
	st := opt.State()
	ts := map[string]*tensor.Tensor{}
	meta := map[string]string{}
	for i, p := range first {
		ts[fmt.Sprintf("param.%d", i)] = p.Value
		ts[fmt.Sprintf("m.%d", i)] = st.Slots["m"][i]
		ts[fmt.Sprintf("v.%d", i)] = st.Slots["v"][i]
		meta[fmt.Sprintf("step.%d", i)] = strconv.Itoa(st.Steps[i])
	}
	var buf bytes.Buffer
	require.NoError(t, safetensors.Write(&buf, ts, meta))
	file, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	load := func(name string) *tensor.Tensor {
		x, err := file.Float32(name)
		require.NoError(t, err)
		return x
	}
	resumed := make([]*autograd.Var, len(shapes))
	loaded := State{Kind: KindAdamW, Hyper: map[string]float32{"lr": 1}, Slots: map[string][]*tensor.Tensor{}}
	for i := range shapes {
		resumed[i] = autograd.Param(load(fmt.Sprintf("param.%d", i)))
		loaded.Slots["m"] = append(loaded.Slots["m"], load(fmt.Sprintf("m.%d", i)))
		loaded.Slots["v"] = append(loaded.Slots["v"], load(fmt.Sprintf("v.%d", i)))
		k, err := strconv.Atoi(file.Metadata()[fmt.Sprintf("step.%d", i)])
		require.NoError(t, err)
		loaded.Steps = append(loaded.Steps, k)
	}
	opt2 := NewAdamW(resumed, cfg)
	require.NoError(t, opt2.LoadState(loaded))
	assert.Equal(t, float32(1), opt2.LR(), "the learning rate is part of the state")
	run(resumed, opt2, n/2, n)
	for i := range shapes {
		assert.True(t, bitsEqual(straight[i].Value.Values(), resumed[i].Value.Values()), "param %d differs after resuming", i)
	}

	// Mismatched states are rejected without changing anything.
	want := opt2.State()
	for _, c := range []struct {
		name   string
		damage func(s *State)
		err    string
	}{
		{"fewer moments", func(s *State) { s.Slots["m"] = s.Slots["m"][:2] }, "2 m tensors for 3 parameters"},
		{"wrong shape", func(s *State) { s.Slots["v"][0] = tensor.Zeros(4, 5) }, "shape [4 5]"},
		{"negative step", func(s *State) { s.Steps[1] = -1 }, "step count -1"},
		{"missing moment", func(s *State) { s.Slots["m"][2] = nil }, "missing"},
		{"missing slot", func(s *State) { delete(s.Slots, "v") }, `slots ["m"]`},
		{"extra slot", func(s *State) { s.Slots["momentum"] = s.Slots["m"] }, `slots ["m" "momentum" "v"]`},
		{"no steps", func(s *State) { s.Steps = nil }, "0 step counts"},
		{"other kind", func(s *State) { s.Kind = KindSGD }, `kind "sgd"`},
		{"no lr", func(s *State) { delete(s.Hyper, "lr") }, "learning rate"},
		{"NaN lr", func(s *State) { s.Hyper["lr"] = float32(math.NaN()) }, "learning rate"},
	} {
		bad := opt2.State()
		c.damage(&bad)
		assert.ErrorContains(t, opt2.LoadState(bad), c.err, c.name)
		assert.Equal(t, want, opt2.State(), "%s: a refused state changes nothing", c.name)
	}
	assert.Equal(t, opt.State().Steps, []int{4, 3, 4})
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// The parallel split of a step changes no bit of the result.
func TestAdamWWorkersIndependent(t *testing.T) {
	defer tensor.SetWorkers(0)
	var results [][]float32
	for _, w := range []int{1, 3, 8} {
		tensor.SetWorkers(w)
		params := newParams(4, []int{513, 301}, []int{301}, []int{7, 33})
		opt := NewAdamW(params, AdamWConfig{WeightDecay: 0.1})
		for s := range 3 {
			for i, p := range params {
				setGrad(p, testGrad(p, i, s))
			}
			opt.Step()
		}
		var all []float32
		for _, p := range params {
			all = append(all, p.Value.Values()...)
		}
		results = append(results, all)
	}
	assert.True(t, bitsEqual(results[0], results[1]))
	assert.True(t, bitsEqual(results[0], results[2]))
}

func BenchmarkAdamWStep(b *testing.B) {
	// About the size of a small GPT: one 50257×16 embedding plus smaller matrices, ~1M values.
	params := newParams(5, []int{50257, 16}, []int{64, 256}, []int{256, 64}, []int{256})
	for i, p := range params {
		setGrad(p, testGrad(p, i, 0))
	}
	opt := NewAdamW(params, AdamWConfig{WeightDecay: 0.1})
	n := 0
	for _, p := range params {
		n += p.Value.Size()
	}
	b.SetBytes(int64(n) * 4)
	if w := os.Getenv("OPTIM_BENCH_WORKERS"); w != "" {
		k, _ := strconv.Atoi(w)
		tensor.SetWorkers(k)
		defer tensor.SetWorkers(0)
	}
	for b.Loop() {
		opt.Step()
	}
}
