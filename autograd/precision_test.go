package autograd

import (
	"math"
	"testing"

	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/require"
)

// Mixed precision (tensor.SetMatMulPrecision(tensor.BF16)): the loss and every gradient of a
// small network whose products go through all four product ops (Affine, MatMul, MatMulT,
// TMatMul), forward and backward, against the same network in float32.
//
// Tolerance: rounding each product's inputs to bf16 (relative error ≤ 2⁻⁸ each) moves each
// product by at most about 2·2⁻⁸ of Σ|a·b|; through two layers and their backward products, and
// measured as the relative difference of whole gradients (‖g_bf16 − g_f32‖ / ‖g_f32‖, where the
// independent roundings partly cancel), 2⁻⁵ is a generous bound (measured here: 0.005 to 0.009, about 2⁻⁷). On a CPU
// with AVX512-BF16 the difference must also exceed 2⁻¹⁴, or the switch had no effect; elsewhere
// the products stay float32 and the two runs agree exactly.
func TestBF16ProductsGradientsMatchFloat32(t *testing.T) {
	defer tensor.SetMatMulPrecision(tensor.Float32)
	rng := newRNG(21)
	const bt, c, h, v = 48, 64, 96, 40 // rows (B·T), width, hidden width, vocabulary
	x0 := randn(rng, bt, c)
	w1, b1 := tensor.RandNormal(rng, 0, 0.15, h, c), randn(rng, h)
	w2 := tensor.RandNormal(rng, 0, 0.1, h, c) // used as (h, c): y = g·w2
	emb := tensor.RandNormal(rng, 0, 0.2, v, c)
	targets := make([]int, bt)
	for i := range targets {
		targets[i] = rng.IntN(v)
	}
	run := func(p tensor.Precision) (float64, []*tensor.Tensor) {
		tensor.SetMatMulPrecision(p)
		params := []*Var{Param(x0.Clone()), Param(w1.Clone()), Param(b1.Clone()), Param(w2.Clone()), Param(emb.Clone())}
		x, pw1, pb1, pw2, pemb := params[0], params[1], params[2], params[3], params[4]
		hid := GELU(Affine(x, pw1, pb1))             // (bt, h)
		y := Add(MatMul(hid, pw2), x)                // (bt, c)
		gram := TMatMul(y, y)                        // (c, c): Yᵀ·Y
		y = Add(y, Scale(MatMul(y, gram), 1.0/bt/8)) // mixes the columns
		logits := MatMulT(y, pemb)                   // (bt, v)
		loss := CrossEntropy(logits, targets, -1)
		loss.Backward()
		grads := make([]*tensor.Tensor, len(params))
		for i, p := range params {
			grads[i] = p.Grad().Clone()
		}
		return float64(loss.Value.Values()[0]), grads
	}
	l32, g32 := run(tensor.Float32)
	l16, g16 := run(tensor.BF16)
	t.Logf("loss float32 %.6f, bf16 %.6f (BF16Native %v)", l32, l16, tensor.BF16Native())
	require.InDelta(t, l32, l16, 0.01*math.Abs(l32))
	names := []string{"x", "w1", "b1", "w2", "emb"}
	for i := range g32 {
		rel := relativeDifference(g32[i].Values(), g16[i].Values())
		t.Logf("%-3s relative gradient difference %.2g", names[i], rel)
		require.Less(t, rel, math.Exp2(-5), names[i])
		if tensor.BF16Native() {
			require.Greater(t, rel, math.Exp2(-14), "%s: bf16 and float32 gradients agree: were the products float32?", names[i])
		} else {
			require.Zero(t, rel, names[i])
		}
	}
}

// Attention's four products (scores q·kᵀ and p·v forward; dp, dV, dQ and dK backward) are bf16
// products too under tensor.BF16, as under PyTorch's bf16 autocast: the output and the
// gradients of q, k and v (causal, 4 query heads sharing 2 KV heads) against float32's, within
// the bound of the test above (measured here: about 2⁻⁸ to 2⁻⁷), and different from them on a
// CPU with AVX512-BF16.
func TestBF16AttentionMatchesFloat32(t *testing.T) {
	defer tensor.SetMatMulPrecision(tensor.Float32)
	rng := newRNG(22)
	const b, tq, c, ckv = 3, 24, 64, 32
	q0, k0, v0 := randn(rng, b, tq, c), randn(rng, b, tq, ckv), randn(rng, b, tq, ckv)
	mix := randn(rng, b, tq, c) // the loss weighs each output differently
	run := func(p tensor.Precision) []*tensor.Tensor {
		tensor.SetMatMulPrecision(p)
		q, k, v := Param(q0.Clone()), Param(k0.Clone()), Param(v0.Clone())
		y := Attention(q, k, v, tensor.Attn{Heads: 4, KVHeads: 2, Causal: true})
		SumAll(Mul(y, Const(mix))).Backward()
		return []*tensor.Tensor{y.Value.Clone(), q.Grad().Clone(), k.Grad().Clone(), v.Grad().Clone()}
	}
	f32, bf := run(tensor.Float32), run(tensor.BF16)
	for i, name := range []string{"y", "dq", "dk", "dv"} {
		rel := relativeDifference(f32[i].Values(), bf[i].Values())
		t.Logf("%-2s relative difference %.2g", name, rel)
		require.Less(t, rel, math.Exp2(-5), name)
		if tensor.BF16Native() {
			require.Greater(t, rel, math.Exp2(-14), "%s: bf16 and float32 agree: were attention's products float32?", name)
		} else {
			require.Zero(t, rel, name)
		}
	}
}

// relativeDifference returns ‖b − a‖ / ‖a‖, in float64.
func relativeDifference(a, b []float32) float64 {
	var diff, norm float64
	for j := range a {
		d := float64(a[j]) - float64(b[j])
		diff += d * d
		norm += float64(a[j]) * float64(a[j])
	}
	return math.Sqrt(diff / norm)
}
