package trainloop

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// a least-squares problem: loss(w) = mean((x·w − y)²) over a batch of rows of x.
var (
	xs = [][]float32{{1, 2}, {3, -1}, {0.5, 0.5}, {-2, 1}}
	ys = []float32{1, 2, 0, -1}
)

func newW() *autograd.Var {
	return autograd.NamedParam("w", tensor.FromSlice([]float32{0.3, -0.2}, 2, 1))
}

// batchLoss is the mean squared error of w over rows lo..hi-1.
func batchLoss(w *autograd.Var, lo, hi int) *autograd.Var {
	var flat, y []float32
	for i := lo; i < hi; i++ {
		flat = append(flat, xs[i]...)
		y = append(y, ys[i])
	}
	pred := autograd.MatMul(autograd.Const(tensor.FromSlice(flat, hi-lo, 2)), w)
	d := autograd.Sub(pred, autograd.Const(tensor.FromSlice(y, hi-lo, 1)))
	return autograd.Scale(autograd.SumAll(autograd.Mul(d, d)), 1/float32(hi-lo))
}

var sched = optim.CosineSchedule{WarmupIters: 1, DecayIters: 5, MaxLR: 0.1, MinLR: 0.01}

// Step is the plain loop written out (backward, clip, scheduled LR, step, zero), step for step,
// to the last bit.
func TestStepIsThePlainLoop(t *testing.T) {
	w, ref := newW(), newW()
	st := Stepper{Opt: optim.NewAdamW([]*autograd.Var{w}, optim.AdamWConfig{LR: 0.1}), Schedule: sched, Clip: 0.5}
	opt := optim.NewAdamW([]*autograd.Var{ref}, optim.AdamWConfig{LR: 0.1})
	for it := range 6 {
		got, err := st.Step(it, func(int) (*autograd.Var, error) { return batchLoss(w, 0, 4), nil })
		require.NoError(t, err)
		l := batchLoss(ref, 0, 4)
		assert.Equal(t, l.Item(), got, "step %d", it)
		l.Backward()
		optim.ClipGradNorm([]*autograd.Var{ref}, 0.5)
		opt.SetLR(sched.LR(it))
		opt.Step()
		opt.ZeroGrad()
		require.Equal(t, ref.Value.Values(), w.Value.Values(), "step %d", it)
	}
	assert.Nil(t, w.Grad(), "gradients are dropped after the step")
}

// Two micro-batches of two rows give the gradient of the four rows' mean loss: the same step
// as one batch, up to float32 rounding.
func TestStepAccumulatesTheMeanLossGradient(t *testing.T) {
	w, whole := newW(), newW()
	acc := Stepper{Opt: optim.NewSGD([]*autograd.Var{w}, optim.SGDConfig{LR: 0.1}), Schedule: sched, Accum: 2}
	one := Stepper{Opt: optim.NewSGD([]*autograd.Var{whole}, optim.SGDConfig{LR: 0.1}), Schedule: sched}
	for it := range 3 {
		got, err := acc.Step(it, func(i int) (*autograd.Var, error) { return batchLoss(w, 2*i, 2*i+2), nil })
		require.NoError(t, err)
		want, err := one.Step(it, func(int) (*autograd.Var, error) { return batchLoss(whole, 0, 4), nil })
		require.NoError(t, err)
		assert.InDelta(t, want, got, 1e-6)
		assert.InDeltaSlice(t, whole.Value.Values(), w.Value.Values(), 1e-6)
	}
}

// A non-finite loss or gradient stops the step before the optimizer: the weights and the
// optimizer's state are as before, and the error says so.
func TestStepStopsOnDivergence(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		w := newW()
		opt := optim.NewAdamW([]*autograd.Var{w}, optim.AdamWConfig{LR: 0.1})
		st := Stepper{Opt: opt, Schedule: sched, Clip: 1}
		_, err := st.Step(0, func(int) (*autograd.Var, error) { return batchLoss(w, 0, 4), nil })
		require.NoError(t, err)
		before, state := w.Value.Clone(), opt.State()

		_, err = st.Step(1, func(int) (*autograd.Var, error) {
			return autograd.Scale(batchLoss(w, 0, 4), bad), nil
		})
		require.ErrorIs(t, err, ErrDiverged)
		assert.Contains(t, err.Error(), "at step 1")
		assert.Equal(t, before.Values(), w.Value.Values(), "the weights are untouched")
		assert.Equal(t, state, opt.State(), "the optimizer is untouched")
		assert.Nil(t, w.Grad())
	}
	// an error building the loss is returned as it is
	w := newW()
	st := Stepper{Opt: optim.NewSGD([]*autograd.Var{w}, optim.SGDConfig{LR: 0.1}), Schedule: sched, Accum: 2}
	boom := errors.New("boom")
	_, err := st.Step(0, func(i int) (*autograd.Var, error) {
		if i == 1 {
			return nil, boom
		}
		return batchLoss(w, 0, 2), nil
	})
	assert.Equal(t, boom, err)
	assert.Nil(t, w.Grad(), "the first micro-batch's gradient is dropped")
}

func TestSaveFiniteSavesOnlyFiniteWeights(t *testing.T) {
	w := newW()
	saved := 0
	save := func() error { saved++; return nil }
	require.NoError(t, SaveFinite([]*autograd.Var{w}, save))
	assert.Equal(t, 1, saved)
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		w.Value.Data()[1] = bad
		err := SaveFinite([]*autograd.Var{newW(), w}, save)
		require.ErrorIs(t, err, ErrDiverged)
		assert.Contains(t, err.Error(), "not saved")
		assert.Contains(t, err.Error(), "w (shape [2 1])")
		assert.Contains(t, err.Error(), "element 1")
		assert.Equal(t, 1, saved, "save was not called")
	}
}

func TestChecksNameEveryBadFlag(t *testing.T) {
	var c Checks
	c.Positive(Int("-batch", 0), Int("-steps", 3))
	c.NonNegative(Int("-threads", -2), Int("-warmup", 0))
	c.LR("-lr", math.NaN())
	c.LR("-lr2", -1)
	c.LR("-lr3", math.Inf(1))
	c.LR("-lr4", 1e-3)
	c.NonNegativeFloat("-clip", math.NaN())
	c.Probability("-dropout", 1)
	c.That(true, "never")
	err := c.Err()
	require.Error(t, err)
	for _, want := range []string{"-batch must be positive, got 0", "-threads must be >= 0, got -2", "-lr must be positive, got NaN",
		"-lr2 must be positive, got -1", "-lr3 must be positive, got +Inf", "-clip must be >= 0, got NaN", "-dropout must be in [0, 1), got 1"} {
		assert.Contains(t, err.Error(), want)
	}
	for _, not := range []string{"-steps", "-warmup", "-lr4", "never"} {
		assert.NotContains(t, err.Error(), not)
	}
	assert.NoError(t, (&Checks{}).Err())
}

// Gradients sees the complete gradients before the finite check: what it poisons is caught.
func TestGradientsHookRunsBeforeTheCheck(t *testing.T) {
	w := newW()
	var seen []int
	st := Stepper{Opt: optim.NewSGD([]*autograd.Var{w}, optim.SGDConfig{LR: 0.1}), Schedule: sched, Accum: 2,
		Gradients: func(it int, params []*autograd.Var) {
			seen = append(seen, it)
			require.Len(t, params, 1)
			require.NotNil(t, params[0].Grad())
			if it == 1 {
				params[0].Grad().Data()[0] = float32(math.NaN())
			}
		}}
	loss := func(i int) (*autograd.Var, error) { return batchLoss(w, 2*i, 2*i+2), nil }
	_, err := st.Step(0, loss)
	require.NoError(t, err)
	before := w.Value.Clone()
	_, err = st.Step(1, loss)
	require.ErrorIs(t, err, ErrDiverged)
	assert.Contains(t, err.Error(), "gradient of w")
	assert.Equal(t, before.Values(), w.Value.Values())
	assert.Equal(t, []int{0, 1}, seen, "once per step, after all the micro-batches")
}
