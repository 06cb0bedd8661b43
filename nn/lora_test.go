package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// newAdapted builds a Linear (in 5, out 3, with bias) whose weight and bias are constants, as in
// a model that trains only its adapter, and a rank-2 adapter on it with alpha 6 (scale 3).
func newAdapted(t *testing.T) (*Linear, *Builder) {
	t.Helper()
	b := NewBuilder(Random(newRNG(11)), nil)
	l := NewLinear(b.Sub("q_proj"), 5, 3, true, 0.5)
	require.NoError(t, b.Err())
	l.Weight, l.Bias = l.Weight.Detach(), autograd.Const(tensor.RandNormal(newRNG(12), 0, 1, 3))
	ab := NewBuilder(Random(newRNG(13)), nil)
	l.LoRA = NewLoRA(ab.Sub("q_proj"), 5, 3, 2, 6)
	require.NoError(t, ab.Err())
	return l, ab
}

func TestLoRANamesAndInitialisation(t *testing.T) {
	l, ab := newAdapted(t)
	var names []string
	for _, s := range ab.Specs() {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"q_proj.lora_A.weight", "q_proj.lora_B.weight"}, names, "PEFT's names")
	assert.Equal(t, []int{2, 5}, l.LoRA.A.Shape())
	assert.Equal(t, []int{3, 2}, l.LoRA.B.Shape())
	assert.Equal(t, float32(3), l.LoRA.Scale)
	bound := 1 / math.Sqrt(5)
	spread := 0.0
	for _, v := range l.LoRA.A.Value.Values() {
		assert.LessOrEqual(t, math.Abs(float64(v)), bound)
		spread = max(spread, math.Abs(float64(v)))
	}
	assert.Greater(t, spread, bound/3, "A is drawn, not zero")
	assert.Equal(t, make([]float32, 6), l.LoRA.B.Value.Values(), "B starts at zero")

	// a fresh adapter changes nothing
	x := autograd.Const(tensor.RandNormal(newRNG(14), 0, 1, 2, 4, 5))
	base := *l
	base.LoRA = nil
	assert.Equal(t, base.Forward(x).Value.Values(), l.Forward(x).Value.Values())
}

// The adapted layer computes x·Wᵀ + b + (alpha/r)·x·Aᵀ·Bᵀ, written out in float64 here; the
// gradients of A, B and x match finite differences; none is computed for the frozen W and b;
// W + Delta computes the same as the adapted layer.
func TestLoRAFormulaGradientsAndDelta(t *testing.T) {
	l, ab := newAdapted(t)
	copy(l.LoRA.B.Value.Data(), tensor.RandNormal(newRNG(15), 0, 1, 3, 2).Values()) // a trained B
	x := autograd.Param(tensor.RandNormal(newRNG(16), 0, 1, 2, 4, 5))
	y := l.Forward(x)
	require.Equal(t, []int{2, 4, 3}, y.Shape())
	w, bias, a, bb := l.Weight.Value.Values(), l.Bias.Value.Values(), l.LoRA.A.Value.Values(), l.LoRA.B.Value.Values()
	xs := x.Value.Values()
	for row := range 8 {
		for o := range 3 {
			want := float64(bias[o])
			for i := range 5 {
				want += float64(xs[row*5+i]) * float64(w[o*5+i])
			}
			for r := range 2 {
				ax := 0.0
				for i := range 5 {
					ax += float64(xs[row*5+i]) * float64(a[r*5+i])
				}
				want += 3 * ax * float64(bb[o*2+r])
			}
			assert.InDelta(t, want, y.Value.Values()[row*3+o], 1e-5, "row %d out %d", row, o)
		}
	}

	fdCheck(t, func() *autograd.Var { return l.Forward(x) }, append([]*autograd.Var{x}, ab.Params()...)...)
	assert.Nil(t, l.Weight.Grad(), "no gradient for the frozen weight")
	assert.Nil(t, l.Bias.Grad(), "no gradient for the frozen bias")

	merged := &Linear{Weight: autograd.Const(tensor.Add(l.Weight.Value, l.LoRA.Delta())), Bias: l.Bias}
	assert.InDeltaSlice(t, l.Forward(x).Value.Values(), merged.Forward(x).Value.Values(), 1e-5)
}

// A fused projection read by rows (a cross-attention's queries from c_attn) includes the
// adapter's term.
func TestLoRARows(t *testing.T) {
	l, _ := newAdapted(t)
	copy(l.LoRA.B.Value.Data(), tensor.RandNormal(newRNG(17), 0, 1, 3, 2).Values())
	x := autograd.Const(tensor.RandNormal(newRNG(18), 0, 1, 2, 4, 5))
	want := autograd.Narrow(l.Forward(x), 2, 1, 2)
	assert.Equal(t, want.Value.Values(), l.rows(x, 1, 2).Value.Values())
}
