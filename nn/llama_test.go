package nn

import (
	"math"
	"testing"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fdCheck compares the gradients of L = Σ R·f() (R random) with respect to params with central
// finite differences, in float64 sums of float32 outputs: h = 1e-2 keeps the truncation error
// near 1e-4 and the rounding error near 1e-5·|L|; a wrong gradient is off by O(1).
func fdCheck(t *testing.T, f func() *autograd.Var, params ...*autograd.Var) {
	t.Helper()
	out := f()
	r := tensor.RandNormal(newRNG(99), 0, 1, out.Shape()...)
	out.BackwardWith(r)
	loss := func() float64 {
		l := 0.0
		for i, v := range f().Value.Values() {
			l += float64(v) * float64(r.Values()[i])
		}
		return l
	}
	const h = 1e-2
	for _, p := range params {
		require.NotNil(t, p.Grad(), p.Name())
		d, g := p.Value.Data(), p.Grad().Values()
		for i := range d {
			orig := d[i]
			d[i] = orig + h
			lp := loss()
			d[i] = orig - h
			lm := loss()
			d[i] = orig
			num := (lp - lm) / (2 * h)
			if math.Abs(num-float64(g[i])) > 2e-3+2e-2*math.Abs(num) {
				t.Fatalf("%s[%d]: analytic %.6g, numeric %.6g", p.Name(), i, g[i], num)
			}
		}
	}
}

func TestRMSNormLayer(t *testing.T) {
	b := NewBuilder(Random(newRNG(1)), nil)
	n := NewRMSNorm(b.Sub("input_layernorm"), 4, 1e-6)
	require.NoError(t, b.Err())
	assert.Equal(t, "input_layernorm.weight", n.Weight.Name())
	assert.Equal(t, []float32{1, 1, 1, 1}, n.Weight.Value.Values())
	copy(n.Weight.Value.Data(), []float32{1, 2, 0.5, -1})
	// x = [1 −1 3 −3]: mean(x²) = 5, so y = x/√5·w.
	y := n.Forward(autograd.Const(tensor.FromSlice([]float32{1, -1, 3, -3}, 1, 1, 4)))
	s := float32(1 / math.Sqrt(5+1e-6))
	assert.InDeltaSlice(t, []float32{s, -2 * s, 1.5 * s, 3 * s}, y.Value.Values(), 1e-6)

	x := autograd.Param(tensor.RandNormal(newRNG(2), 0, 1, 2, 3, 4))
	fdCheck(t, func() *autograd.Var { return n.Forward(x) }, x, n.Weight)
}

func TestSwiGLUNamesFormulaAndGradients(t *testing.T) {
	for _, bias := range []bool{false, true} {
		b := NewBuilder(Random(newRNG(3)), nil)
		f := NewSwiGLU(b.Sub("mlp"), 5, 7, bias, 0.3, 0.2)
		require.NoError(t, b.Err())
		var names []string
		for _, s := range b.Specs() {
			names = append(names, s.Name)
		}
		want := []string{"mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"}
		if bias {
			want = []string{"mlp.gate_proj.weight", "mlp.gate_proj.bias", "mlp.up_proj.weight", "mlp.up_proj.bias", "mlp.down_proj.weight", "mlp.down_proj.bias"}
			for _, l := range []*Linear{f.Gate, f.Up, f.Down} { // non-zero biases, to be seen
				copy(l.Bias.Value.Data(), tensor.RandNormal(newRNG(4), 0, 0.5, l.Bias.Shape()...).Values())
			}
		}
		require.Equal(t, want, names)
		assert.Equal(t, []int{7, 5}, f.Gate.Weight.Shape())
		assert.Equal(t, []int{5, 7}, f.Down.Weight.Shape())

		x := autograd.Param(tensor.RandNormal(newRNG(5), 0, 1, 2, 3, 5))
		// The fused op against the plain composition down(silu(gate(x)) · up(x)).
		plain := f.Down.Forward(autograd.Mul(autograd.SiLU(f.Gate.Forward(x)), f.Up.Forward(x)))
		assert.InDeltaSlice(t, plain.Value.Values(), f.Forward(x).Value.Values(), 1e-6)
		params := append([]*autograd.Var{x}, b.Params()...)
		fdCheck(t, func() *autograd.Var { return f.Forward(x) }, params...)
	}
}

// The tables follow the README of ../shared/testdata/hf-llama-tiny: cos and sin of
// p·theta^(−2i/HS), written here as 1/theta^(2i/HS).
func TestRotaryTables(t *testing.T) {
	const hs, maxPos, theta = 16, 50, 10000.0
	cos, sin := NewRotary(hs, maxPos, theta, RopeScaling{}).Tables()
	require.Equal(t, []int{maxPos, hs / 2}, cos.Shape())
	for p := range maxPos {
		for i := range hs / 2 {
			a := float64(p) / math.Pow(theta, float64(2*i)/hs)
			require.InDelta(t, math.Cos(a), cos.At(p, i), 1e-7)
			require.InDelta(t, math.Sin(a), sin.At(p, i), 1e-7)
		}
	}
	again, _ := NewRotary(hs, maxPos, theta, RopeScaling{}).Tables()
	assert.Same(t, cos, again, "one table per setting")

	lin := InvFreq(hs, theta, RopeScaling{Type: RopeScalingLinear, Factor: 4})
	for i, f := range InvFreq(hs, theta, RopeScaling{}) {
		assert.InDelta(t, f/4, lin[i], 1e-15)
	}
}

// Llama 3.1's rescale (factor 8, low 1, high 4, original 8192): wavelengths below 8192/4 = 2048
// keep their frequency, those above 8192 are divided by 8, and between the two the README's
// blend applies.
func TestRotaryLlama3Scaling(t *testing.T) {
	s := RopeScaling{Type: RopeScalingLlama3, Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}
	require.NoError(t, s.Validate())
	const hs, theta = 128, 500000.0
	scaled, plain := InvFreq(hs, theta, s), InvFreq(hs, theta, RopeScaling{})
	kinds := map[string]int{}
	for i, f := range plain {
		wavelen := 2 * math.Pi / f
		switch {
		case wavelen < 2048:
			kinds["kept"]++
			assert.Equal(t, f, scaled[i])
		case wavelen > 8192:
			kinds["divided"]++
			assert.InDelta(t, f/8, scaled[i], 1e-15)
		default:
			kinds["blended"]++
			smooth := (8192/wavelen - 1) / 3
			assert.InDelta(t, (1-smooth)*f/8+smooth*f, scaled[i], 1e-15)
			assert.True(t, f/8 <= scaled[i] && scaled[i] <= f)
		}
	}
	assert.Positive(t, kinds["kept"])
	assert.Positive(t, kinds["divided"])
	assert.Positive(t, kinds["blended"])

	for _, bad := range []RopeScaling{
		{Type: "yarn", Factor: 4},
		{Type: RopeScalingLinear},
		{Type: RopeScalingLlama3, Factor: 8, LowFreqFactor: 4, HighFreqFactor: 1, OriginalMaxPositions: 8192},
		{Type: RopeScalingLlama3, Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4},
		{Factor: 2},
	} {
		assert.Error(t, bad.Validate(), "%+v", bad)
	}
}

// After rotation, the score between a query at position m and a key at position n depends only
// on m − n: shifting both by the same amount changes nothing.
func TestRotaryScoreDependsOnlyOnDistance(t *testing.T) {
	const hs = 32
	r := NewRotary(hs, 64, 10000, RopeScaling{})
	rng := newRNG(6)
	q := autograd.Const(tensor.RandNormal(rng, 0, 1, 1, 1, 1, hs))
	k := autograd.Const(tensor.RandNormal(rng, 0, 1, 1, 1, 1, hs))
	score := func(m, n int) float64 {
		qm := r.Rotate(q, []int{m}).Value.Values()
		kn := r.Rotate(k, []int{n}).Value.Values()
		s := 0.0
		for i := range qm {
			s += float64(qm[i]) * float64(kn[i])
		}
		return s
	}
	for _, d := range []int{0, 1, 5, 20} {
		want := score(d, 0)
		for _, shift := range []int{3, 17, 40} {
			assert.InDelta(t, want, score(d+shift, shift), 2e-5, "distance %d shifted by %d", d, shift)
		}
	}
	assert.Greater(t, math.Abs(score(1, 0)-score(9, 0)), 1e-3, "different distances give different scores")
}

func TestRotarySatisfiesRotation(t *testing.T) {
	var rot interface {
		Rotate(x *autograd.Var, pos []int) *autograd.Var
	} = NewRotary(4, 8, 10000, RopeScaling{})
	x := autograd.Param(tensor.RandNormal(newRNG(7), 0, 1, 2, 3, 2, 4))
	fdCheck(t, func() *autograd.Var { return rot.Rotate(x, []int{5, 6, 7}) }, x)
	assert.Panics(t, func() { NewRotary(5, 8, 10000, RopeScaling{}) })
}

// Goroutines that ask for the tables of one new setting at once get the same tables, computed
// once (run with -race).
func TestRotaryTablesConcurrently(t *testing.T) {
	const n = 8
	got := make([]*tensor.Tensor, n)
	done := make(chan int)
	for i := range n {
		go func() {
			got[i], _ = NewRotary(6, 40, 777, RopeScaling{}).Tables()
			done <- i
		}()
	}
	for range n {
		<-done
	}
	for _, c := range got[1:] {
		assert.Same(t, got[0], c)
	}
}
