package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 12345)) }

// Finite-difference tolerance. The ops compute in float32, so a central difference
// (f(x+h) − f(x−h))/2h with h = 1e-2 carries a truncation error of order h²·f”' ≈ 1e-4 and a
// rounding error of order 6e-8·|L|/h ≈ 1e-5·|L| (L is accumulated in float64 but each output
// element is float32). An analytic gradient that is wrong (a missing factor, a wrong sign, a
// dropped broadcast sum) is off by O(1) relative, far outside atol + rtol·|g|.
const (
	fdStep = 1e-2
	fdAtol = 2e-3
	fdRtol = 2e-2
)

// checkGrad verifies the gradients of f at inputs by central finite differences. It draws a
// random projection R of f's output, so that L = Σ R·f(inputs) exercises every output element,
// seeds Backward with R, and compares each input's gradient with (L(x+h) − L(x−h)) / 2h
// element by element.
func checkGrad(t *testing.T, f func(vs []*Var) *Var, inputs ...*tensor.Tensor) {
	t.Helper()
	rng := newRNG(99)
	params := make([]*Var, len(inputs))
	for i, in := range inputs {
		params[i] = Param(in.Clone())
	}
	out := f(params)
	proj := tensor.RandNormal(rng, 0, 1, out.Value.Shape()...)
	out.BackwardWith(proj)

	// The finite differences evaluate f on constants sharing the parameters' values: no graph.
	consts := make([]*Var, len(params))
	for i, p := range params {
		consts[i] = p.Detach()
	}
	loss := func() float64 {
		var l float64
		o := f(consts).Value.Values()
		for i, r := range proj.Values() {
			l += float64(r) * float64(o[i])
		}
		return l
	}
	for pi, p := range params {
		require.NotNil(t, p.Grad(), "input %d got no gradient", pi)
		require.Equal(t, p.Value.Shape(), p.Grad().Shape())
		data, grad := p.Value.Data(), p.Grad().Values()
		for i := range data {
			orig := data[i]
			data[i] = orig + fdStep
			lp := loss()
			data[i] = orig - fdStep
			lm := loss()
			data[i] = orig
			num := (lp - lm) / (2 * fdStep)
			ana := float64(grad[i])
			if math.Abs(num-ana) > fdAtol+fdRtol*math.Abs(num) {
				t.Fatalf("input %d (shape %v) element %d: analytic %.6g, numeric %.6g", pi, p.Value.Shape(), i, ana, num)
			}
		}
	}
}

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	return tensor.RandNormal(rng, 0, 1, shape...)
}

// positive returns values in [0.5, 2): away from the poles of log, sqrt and division.
func positive(rng *rand.Rand, shape ...int) *tensor.Tensor {
	return tensor.RandUniform(rng, 0.5, 2, shape...)
}

// awayFromZero returns values with |x| in [0.2, 2): away from ReLU's kink.
func awayFromZero(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.RandUniform(rng, 0.2, 2, shape...)
	d := t.Data()
	for i := range d {
		if rng.IntN(2) == 0 {
			d[i] = -d[i]
		}
	}
	return t
}

func binaryCases() [][2][]int {
	return [][2][]int{
		{{3, 7}, {3, 7}},
		{{3, 7}, {7}},
		{{2, 1, 3}, {4, 1}},
		{{1}, {33}},
		{{7, 1}, {1, 3}},
		{{}, {3}},
	}
}

func TestGrad_Add(t *testing.T) {
	rng := newRNG(1)
	for _, c := range binaryCases() {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			checkGrad(t, func(v []*Var) *Var { return Add(v[0], v[1]) }, randn(rng, c[0]...), randn(rng, c[1]...))
		})
	}
}

func TestGrad_Sub(t *testing.T) {
	rng := newRNG(2)
	for _, c := range binaryCases() {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			checkGrad(t, func(v []*Var) *Var { return Sub(v[0], v[1]) }, randn(rng, c[0]...), randn(rng, c[1]...))
		})
	}
}

func TestGrad_Mul(t *testing.T) {
	rng := newRNG(3)
	for _, c := range binaryCases() {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			checkGrad(t, func(v []*Var) *Var { return Mul(v[0], v[1]) }, randn(rng, c[0]...), randn(rng, c[1]...))
		})
	}
}

func TestGrad_Div(t *testing.T) {
	rng := newRNG(4)
	for _, c := range binaryCases() {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			checkGrad(t, func(v []*Var) *Var { return Div(v[0], v[1]) }, randn(rng, c[0]...), positive(rng, c[1]...))
		})
	}
}

func TestGrad_SameVarTwice(t *testing.T) {
	// x·x + x: x is used three times, so its gradient must gather 2x + 1.
	rng := newRNG(5)
	checkGrad(t, func(v []*Var) *Var { return Add(Mul(v[0], v[0]), v[0]) }, randn(rng, 3, 7))
}

func TestGrad_ScalarOps(t *testing.T) {
	rng := newRNG(6)
	checkGrad(t, func(v []*Var) *Var { return Neg(v[0]) }, randn(rng, 7))
	checkGrad(t, func(v []*Var) *Var { return Scale(v[0], -2.5) }, randn(rng, 3, 3))
	checkGrad(t, func(v []*Var) *Var { return AddScalar(v[0], 4) }, randn(rng, 1))
	checkGrad(t, func(v []*Var) *Var { return Pow(v[0], 3) }, randn(rng, 33))
	checkGrad(t, func(v []*Var) *Var { return Pow(v[0], 2) }, randn(rng, 7))
	checkGrad(t, func(v []*Var) *Var { return Pow(v[0], -0.5) }, positive(rng, 7))
}

func TestGrad_Unary(t *testing.T) {
	rng := newRNG(7)
	cases := []struct {
		name string
		f    func(*Var) *Var
		in   *tensor.Tensor
	}{
		{"Exp", Exp, randn(rng, 3, 7)},
		{"Log", Log, positive(rng, 3, 7)},
		{"Sqrt", Sqrt, positive(rng, 33)},
		{"Tanh", Tanh, randn(rng, 7, 3)},
		{"ReLU", ReLU, awayFromZero(rng, 33)},
		{"GELU", GELU, tensor.RandUniform(rng, -4, 4, 3, 33)},
		{"GELUTanh", GELUTanh, tensor.RandUniform(rng, -4, 4, 3, 33)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkGrad(t, func(v []*Var) *Var { return c.f(v[0]) }, c.in)
		})
	}
}

func TestGrad_MatMul(t *testing.T) {
	rng := newRNG(8)
	for _, s := range [][2][]int{
		{{1, 1}, {1, 1}},
		{{3, 7}, {7, 1}},
		{{7, 33}, {33, 3}},
		{{2, 3, 7}, {7, 3}},          // activations times a weight (flattened path)
		{{2, 3, 3, 7}, {3, 7, 1}},    // batched with a broadcast batch axis
		{{1, 3, 7}, {2, 3, 7, 3}},    // broadcast on the left operand
		{{3, 5, 7}, {3, 7, 5}},       // plain batch
		{{2, 1, 3, 2}, {1, 3, 2, 4}}, // both operands broadcast
	} {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			checkGrad(t, func(v []*Var) *Var { return MatMul(v[0], v[1]) }, randn(rng, s[0]...), randn(rng, s[1]...))
		})
	}
}

func TestGrad_MatMulTransposedForms(t *testing.T) {
	rng := newRNG(9)
	checkGrad(t, func(v []*Var) *Var { return MatMulT(v[0], v[1]) }, randn(rng, 7, 3), randn(rng, 33, 3))
	checkGrad(t, func(v []*Var) *Var { return MatMulT(v[0], v[1]) }, randn(rng, 2, 3, 7), randn(rng, 5, 7))
	checkGrad(t, func(v []*Var) *Var { return MatMulT(v[0], v[1]) }, randn(rng, 2, 3, 7), randn(rng, 2, 5, 7))
	checkGrad(t, func(v []*Var) *Var { return TMatMul(v[0], v[1]) }, randn(rng, 3, 7), randn(rng, 3, 1))
	checkGrad(t, func(v []*Var) *Var { return TMatMul(v[0], v[1]) }, randn(rng, 2, 7, 3), randn(rng, 7, 5))
	// a transposed view as operand
	checkGrad(t, func(v []*Var) *Var { return MatMul(Transpose(v[0], 0, 1), v[1]) }, randn(rng, 7, 3), randn(rng, 7, 3))
}

func TestGrad_Affine(t *testing.T) {
	rng := newRNG(12)
	checkGrad(t, func(v []*Var) *Var { return Affine(v[0], v[1], v[2]) }, randn(rng, 7, 3), randn(rng, 5, 3), randn(rng, 5))
	checkGrad(t, func(v []*Var) *Var { return Affine(v[0], v[1], v[2]) }, randn(rng, 2, 3, 7), randn(rng, 33, 7), randn(rng, 33))
	// a transposed view as input
	checkGrad(t, func(v []*Var) *Var { return Affine(Transpose(v[0], 0, 1), v[1], v[2]) }, randn(rng, 4, 6), randn(rng, 3, 4), randn(rng, 3))
}

// TestAffineMatchesMatMulTPlusBias checks the fused op against the two ops it replaces, at a
// size where the product has several K blocks and the bias rounds into a different place.
func TestAffineMatchesMatMulTPlusBias(t *testing.T) {
	rng := newRNG(13)
	x, w, b := randn(rng, 3, 50, 700), randn(rng, 96, 700), randn(rng, 96)
	got := Affine(Param(x), Param(w), Param(b)).Value.Values()
	want := Add(MatMulT(Param(x), Param(w)), Param(b)).Value.Values()
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-4*(1+math.Abs(float64(want[i]))), "element %d", i)
	}
}

func TestGrad_ShapeOps(t *testing.T) {
	rng := newRNG(10)
	checkGrad(t, func(v []*Var) *Var { return Reshape(v[0], 7, -1) }, randn(rng, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return Reshape(Transpose(v[0], 0, 1), 21) }, randn(rng, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return Transpose(v[0], 0, 2) }, randn(rng, 2, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return Permute(v[0], 2, 0, 1) }, randn(rng, 2, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return Narrow(v[0], 1, 2, 3) }, randn(rng, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return Unsqueeze(v[0], 1) }, randn(rng, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return Concat(1, v[0], v[1], v[0]) }, randn(rng, 3, 1), randn(rng, 3, 7))
	checkGrad(t, func(v []*Var) *Var {
		parts := Split(v[0], -1, 1, 2, 4)
		// use the pieces unequally so each slot's gradient is distinguishable
		return Concat(-1, Scale(parts[2], 3), parts[0], Scale(parts[1], -2))
	}, randn(rng, 3, 7))
}

func TestGrad_Embedding(t *testing.T) {
	rng := newRNG(11)
	ids := []int{3, 0, 3, 6, 3} // repeated ids must accumulate
	checkGrad(t, func(v []*Var) *Var { return Embedding(v[0], ids) }, randn(rng, 7, 3))
	// embedding used twice in one graph (like a tied input/output embedding)
	checkGrad(t, func(v []*Var) *Var {
		return MatMulT(Embedding(v[0], ids), v[0])
	}, randn(rng, 7, 3))
}

func TestGrad_Reductions(t *testing.T) {
	rng := newRNG(12)
	for _, axis := range []int{0, 1, -1} {
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprint(axis, keep), func(t *testing.T) {
				checkGrad(t, func(v []*Var) *Var { return Sum(v[0], axis, keep) }, randn(rng, 3, 7, 2))
				checkGrad(t, func(v []*Var) *Var { return Mean(v[0], axis, keep) }, randn(rng, 3, 7, 2))
			})
		}
	}
	checkGrad(t, func(v []*Var) *Var { return SumAll(v[0]) }, randn(rng, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return MeanAll(v[0]) }, randn(rng, 33))
}

func TestGrad_Softmax(t *testing.T) {
	rng := newRNG(13)
	checkGrad(t, func(v []*Var) *Var { return Softmax(v[0]) }, randn(rng, 3, 7))
	checkGrad(t, func(v []*Var) *Var { return Softmax(v[0]) }, randn(rng, 2, 1))
	checkGrad(t, func(v []*Var) *Var { return LogSoftmax(v[0]) }, randn(rng, 3, 33))
}

func TestGrad_CrossEntropy(t *testing.T) {
	rng := newRNG(14)
	checkGrad(t, func(v []*Var) *Var { return CrossEntropy(v[0], []int{2, 0, 6}, -1) }, randn(rng, 3, 7))
	// ignore index: the ignored row gets no gradient and is left out of the mean
	checkGrad(t, func(v []*Var) *Var { return CrossEntropy(v[0], []int{2, -100, 6, 1}, -100) }, randn(rng, 2, 2, 7))
	checkGrad(t, func(v []*Var) *Var { return CrossEntropy(v[0], []int{0}, -1) }, randn(rng, 1, 1))
}

func TestGrad_LayerNorm(t *testing.T) {
	rng := newRNG(15)
	for _, shape := range [][]int{{3, 7}, {2, 3, 33}, {1, 1}, {5, 2}} {
		c := shape[len(shape)-1]
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			checkGrad(t, func(v []*Var) *Var { return LayerNorm(v[0], v[1], v[2], 1e-5) },
				tensor.RandNormal(rng, 0.5, 2, shape...), tensor.RandNormal(rng, 1, 0.5, c), randn(rng, c))
			checkGrad(t, func(v []*Var) *Var { return LayerNorm(v[0], v[1], nil, 1e-5) },
				tensor.RandNormal(rng, 0.5, 2, shape...), tensor.RandNormal(rng, 1, 0.5, c))
		})
	}
}

func TestGrad_Dropout(t *testing.T) {
	// The mask is drawn from a freshly seeded generator on every evaluation, so the finite
	// differences see the same mask as the analytic pass.
	checkGrad(t, func(v []*Var) *Var { return Dropout(v[0], 0.3, newRNG(7)) }, randn(newRNG(16), 7, 33))
	x := Param(tensor.Ones(100))
	require.Same(t, x, Dropout(x, 0, newRNG(1)), "dropout with p = 0 is the identity")
	require.PanicsWithValue(t, "autograd.Dropout: probability 1 outside [0, 1) for input of shape [100]", func() { Dropout(x, 1, newRNG(1)) })
	y := Dropout(x, 0.5, newRNG(1)).Value.Values()
	zeros := 0
	for _, v := range y {
		if v == 0 {
			zeros++
		} else {
			require.Equal(t, float32(2), v, "survivors scale by 1/(1-p)")
		}
	}
	require.InDelta(t, 50, zeros, 20)
}

func TestGrad_CausalMaskSoftmax(t *testing.T) {
	rng := newRNG(17)
	checkGrad(t, func(v []*Var) *Var { return Softmax(CausalMask(v[0])) }, randn(rng, 2, 7, 7))
	checkGrad(t, func(v []*Var) *Var { return Softmax(CausalMask(v[0])) }, randn(rng, 1, 1))
	out := CausalMask(Const(tensor.Zeros(3, 3))).Value
	require.True(t, math.IsInf(float64(out.At(0, 2)), -1))
	require.Equal(t, float32(0), out.At(2, 0))
}

// TestGrad_TwoLayerMLP checks a composite end to end: x → Linear → tanh → Linear → cross-entropy.
func TestGrad_TwoLayerMLP(t *testing.T) {
	rng := newRNG(18)
	targets := []int{1, 0, 2, 2, 1}
	checkGrad(t, func(v []*Var) *Var {
		h := Tanh(Add(MatMul(v[0], v[1]), v[2]))
		logits := Add(MatMulT(h, v[3]), v[4])
		return CrossEntropy(logits, targets, -1)
	}, randn(rng, 5, 4), tensor.RandNormal(rng, 0, 0.5, 4, 7), randn(rng, 7), tensor.RandNormal(rng, 0, 0.5, 3, 7), randn(rng, 3))
}

// TestGrad_AttentionBlock checks a small causal multi-head self-attention block end to end:
// LayerNorm → fused qkv projection → split heads → masked softmax → weighted sum → projection,
// with a residual connection and a GELU MLP.
func TestGrad_AttentionBlock(t *testing.T) {
	rng := newRNG(19)
	const b, tt, c, nh = 2, 3, 4, 2
	hs := c / nh
	block := func(v []*Var) *Var {
		x, lnw, lnb, wqkv, wo, wfc := v[0], v[1], v[2], v[3], v[4], v[5]
		h := LayerNorm(x, lnw, lnb, 1e-5)
		qkv := MatMul(h, wqkv) // (B, T, 3C)
		parts := Split(qkv, -1, c, c, c)
		heads := func(p *Var) *Var { return Permute(Reshape(p, b, tt, nh, hs), 0, 2, 1, 3) } // (B, NH, T, HS)
		q, k, vv := heads(parts[0]), heads(parts[1]), heads(parts[2])
		att := Softmax(CausalMask(Scale(MatMulT(q, k), float32(1/math.Sqrt(float64(hs)))))) // (B, NH, T, T)
		y := Reshape(Permute(MatMul(att, vv), 0, 2, 1, 3), b, tt, c)                        // (B, T, C)
		x = Add(x, MatMul(y, wo))
		return Add(x, GELU(MatMul(x, wfc)))
	}
	checkGrad(t, block,
		randn(rng, b, tt, c), tensor.RandNormal(rng, 1, 0.3, c), randn(rng, c),
		tensor.RandNormal(rng, 0, 0.5, c, 3*c), tensor.RandNormal(rng, 0, 0.5, c, c), tensor.RandNormal(rng, 0, 0.5, c, c))
}

// composedAttention is attention built from the elementary ops, the reference for the fused one.
func composedAttention(qkv *Var, nh int) *Var {
	s := qkv.Shape()
	b, tt, c := s[0], s[1], s[2]/3
	hs := c / nh
	parts := Split(qkv, -1, c, c, c)
	heads := func(p *Var) *Var { return Permute(Reshape(p, b, tt, nh, hs), 0, 2, 1, 3) } // (B, NH, T, HS)
	q, k, v := heads(parts[0]), heads(parts[1]), heads(parts[2])
	att := Softmax(CausalMask(Scale(MatMulT(q, k), float32(1/math.Sqrt(float64(hs))))))
	return Reshape(Permute(MatMul(att, v), 0, 2, 1, 3), b, tt, c)
}

// packedAttention is causal attention over a fused projection qkv (B, T, 3C), as GPT-2 runs it:
// the backward pass writes into qkv's gradient directly.
func packedAttention(qkv *Var, nh int) *Var {
	c := qkv.Shape()[2] / 3
	p := Split(qkv, 2, c, c, c)
	return Attention(p[0], p[1], p[2], tensor.Attn{Heads: nh, Causal: true})
}

func TestGrad_CausalSelfAttention(t *testing.T) {
	rng := newRNG(20)
	checkGrad(t, func(v []*Var) *Var { return packedAttention(v[0], 2) }, randn(rng, 2, 5, 3*6))
	checkGrad(t, func(v []*Var) *Var { return packedAttention(v[0], 3) }, randn(rng, 1, 7, 3*9))
	checkGrad(t, func(v []*Var) *Var { return packedAttention(v[0], 1) }, randn(rng, 3, 1, 3*4))
}

// TestGrad_AttentionGroupedCachedPadded checks the general kernel against finite differences:
// separate q, k, v, grouped KV heads (4 query heads on 2 KV heads, HS 3), queries that are the
// last 3 of 5 positions, and padded keys.
func TestGrad_AttentionGroupedCachedPadded(t *testing.T) {
	rng := newRNG(22)
	pad := []bool{false, false, true, false, false, true, false, false, false, false}
	for _, a := range []tensor.Attn{
		{Heads: 4, KVHeads: 2, Causal: true},
		{Heads: 4, KVHeads: 2, Causal: true, KeyPad: pad},
		{Heads: 4, KVHeads: 1, KeyPad: pad},
	} {
		checkGrad(t, func(v []*Var) *Var { return Attention(v[0], v[1], v[2], a) },
			randn(rng, 2, 3, 4*3), randn(rng, 2, 5, a.KVHeads*3), randn(rng, 2, 5, a.KVHeads*3))
	}
}

func TestAttentionFusedMatchesComposed(t *testing.T) {
	rng := newRNG(21)
	for _, s := range [][3]int{{2, 7, 3}, {1, 33, 4}, {3, 1, 2}, {2, 64, 4}, {1, 70, 2}, {1, 150, 3}} { // 70, 150: several causal blocks, the last one short
		b, tt, nh := s[0], s[1], s[2]
		c := nh * 8
		x := tensor.RandNormal(rng, 0, 1, b, tt, 3*c)
		proj := tensor.RandNormal(rng, 0, 1, b, tt, c)
		fusedIn, composedIn := Param(x.Clone()), Param(x.Clone())
		fused := packedAttention(fusedIn, nh)
		composed := composedAttention(composedIn, nh)
		fused.BackwardWith(proj)
		composed.BackwardWith(proj)
		// the same sums in another order: float32 rounding only
		for i, v := range composed.Value.Values() {
			require.InDelta(t, v, fused.Value.Values()[i], 1e-5, "forward %v element %d", s, i)
		}
		for i, v := range composedIn.Grad().Values() {
			require.InDelta(t, v, fusedIn.Grad().Values()[i], 2e-5*(1+math.Abs(float64(v))), "gradient %v element %d", s, i)
		}
	}
}
