package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func TestConstructors(t *testing.T) {
	z := Zeros(2, 3)
	assert.Equal(t, []int{2, 3}, z.Shape())
	assert.Equal(t, []float32{0, 0, 0, 0, 0, 0}, z.Values())
	assert.Equal(t, []float32{7, 7}, Full(7, 2).Values())
	assert.Equal(t, []float32{1, 1, 1}, Ones(3).Values())
	s := Scalar(4)
	assert.Equal(t, 0, s.Dims())
	assert.Equal(t, float32(4), s.Item())
	assert.Equal(t, []float32{0, 2, 4}, Arange(0, 5, 2).Values())
	assert.Panics(t, func() { FromSlice([]float32{1, 2, 3}, 2, 2) })
	assert.Panics(t, func() { Zeros(-1) })
}

func TestRandomIsReproducible(t *testing.T) {
	a := RandNormal(newRNG(1), 0, 1, 100)
	b := RandNormal(newRNG(1), 0, 1, 100)
	assert.Equal(t, a.Values(), b.Values())
	var mean, sq float64
	for _, v := range a.Values() {
		mean += float64(v)
		sq += float64(v * v)
	}
	assert.InDelta(t, 0, mean/100, 0.3)
	assert.InDelta(t, 1, sq/100, 0.4)
	u := RandUniform(newRNG(2), -2, 3, 1000)
	for _, v := range u.Values() {
		require.True(t, v >= -2 && v < 3)
	}
}

func TestViewsShareStorage(t *testing.T) {
	x := FromSlice([]float32{0, 1, 2, 3, 4, 5}, 2, 3)
	tr := x.T()
	assert.Equal(t, []int{3, 2}, tr.Shape())
	assert.False(t, tr.IsContiguous())
	assert.Equal(t, []float32{0, 3, 1, 4, 2, 5}, tr.Values())
	tr.Set(42, 2, 1)
	assert.Equal(t, float32(42), x.At(1, 2), "a transpose is a view")

	n := x.Narrow(1, 1, 2)
	assert.Equal(t, []float32{1, 2, 4, 42}, n.Values())
	assert.Equal(t, []float32{3, 4, 42}, x.Index(0, 1).Values())

	r := x.Reshape(3, -1)
	assert.Equal(t, []int{3, 2}, r.Shape())
	assert.Panics(t, func() { tr.Reshape(6) }, "reshape of a strided view must panic")
	assert.Panics(t, func() { x.Reshape(4, 2) })

	e := FromSlice([]float32{1, 2}, 2, 1).Expand(2, 3)
	assert.Equal(t, []float32{1, 1, 1, 2, 2, 2}, e.Values())
	assert.Equal(t, []int{1, 2, 3}, x.Unsqueeze(0).Shape())
	assert.Equal(t, []int{2, 3, 1}, x.Unsqueeze(-1).Shape())
	assert.Equal(t, []int{2, 3}, x.Unsqueeze(1).Squeeze(1).Shape())

	p := Arange(0, 24, 1).Reshape(2, 3, 4).Permute(2, 0, 1)
	assert.Equal(t, []int{4, 2, 3}, p.Shape())
	assert.Equal(t, float32(1*12+2*4+3), p.At(3, 1, 2))
	c := p.Contiguous()
	assert.True(t, c.IsContiguous())
	assert.Equal(t, p.Values(), c.Values())
}

func TestBroadcastingArithmetic(t *testing.T) {
	a := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	row := FromSlice([]float32{10, 20, 30}, 3)
	col := FromSlice([]float32{100, 200}, 2, 1)
	assert.Equal(t, []float32{11, 22, 33, 14, 25, 36}, Add(a, row).Values())
	assert.Equal(t, []float32{101, 102, 103, 204, 205, 206}, Add(a, col).Values())
	assert.Equal(t, []float32{-9, -18, -27, -6, -15, -24}, Sub(a, row).Values())
	assert.Equal(t, []float32{100, 200, 300, 800, 1000, 1200}, Mul(a, col).Values())
	assert.Equal(t, []float32{0.5, 1, 1.5, 2, 2.5, 3}, Div(a, Scalar(2)).Values())
	outer := Mul(col, row)
	assert.Equal(t, []int{2, 3}, outer.Shape())
	assert.Equal(t, []float32{1000, 2000, 3000, 2000, 4000, 6000}, outer.Values())
	// a transposed (strided) operand
	assert.Equal(t, Add(a, a).Values(), Add(a.T(), a.T()).T().Contiguous().Values())
	assert.PanicsWithValue(t, "tensor.Add: shapes [2 3] and [2] cannot be broadcast", func() { Add(a, Zeros(2)) })
	assert.Equal(t, []int{4, 2, 3}, BroadcastShapes("x", []int{4, 1, 3}, []int{2, 1}))
}

func TestUnaryOps(t *testing.T) {
	x := FromSlice([]float32{-2, -0.5, 0, 0.5, 2}, 5)
	check := func(name string, got *Tensor, f func(float64) float64) {
		for i, v := range x.Values() {
			want := f(float64(v))
			g := float64(got.Values()[i])
			if math.IsNaN(want) {
				assert.True(t, math.IsNaN(g), name)
				continue
			}
			assert.InDelta(t, want, g, 1e-6*(1+math.Abs(want)), "%s(%v)", name, v)
		}
	}
	check("Neg", Neg(x), func(v float64) float64 { return -v })
	check("Scale", Scale(x, 3), func(v float64) float64 { return 3 * v })
	check("Exp", Exp(x), math.Exp)
	check("Log", Log(x), math.Log)
	check("Sqrt", Sqrt(x), math.Sqrt)
	check("Tanh", Tanh(x), math.Tanh)
	check("Pow3", Pow(x, 3), func(v float64) float64 { return v * v * v })
	check("ReLU", ReLU(x), func(v float64) float64 { return math.Max(v, 0) })
	// GELU reference values from the definitions, computed independently with the normal CDF
	// expressed through erfc (a different path from the kernel's erf).
	check("GELU", GELU(x), func(v float64) float64 { return v * 0.5 * math.Erfc(-v/math.Sqrt2) })
	check("GELUTanh", GELUTanh(x), func(v float64) float64 {
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*math.Pow(v, 3))))
	})
}

func TestWhereAndMaskedFill(t *testing.T) {
	cond := FromSlice([]float32{1, 0, 1}, 3)
	a := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	assert.Equal(t, []float32{1, -1, 3, 4, -1, 6}, Where(cond, a, Scalar(-1)).Values())
	mask := FromSlice([]float32{0, 1, 1, 0, 0, 1}, 2, 3)
	assert.Equal(t, []float32{1, -9, -9, 4, 5, -9}, MaskedFill(a, mask, -9).Values())
	assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}, a.Values(), "inputs are not modified")
}

func TestReductions(t *testing.T) {
	x := Arange(0, 24, 1).Reshape(2, 3, 4)
	s := Sum(x, 1, false)
	assert.Equal(t, []int{2, 4}, s.Shape())
	assert.Equal(t, []float32{12, 15, 18, 21, 48, 51, 54, 57}, s.Values())
	assert.Equal(t, []int{2, 3, 1}, Sum(x, -1, true).Shape())
	assert.Equal(t, []float32{6, 22, 38, 54, 70, 86}, Sum(x, 2, false).Values())
	assert.Equal(t, []float32{6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, Mean(x, 0, false).Values())
	assert.Equal(t, []float32{3, 7, 11, 15, 19, 23}, Max(x, 2, false).Values())
	assert.Equal(t, float32(276), SumAll(x).Item())
	assert.Equal(t, float32(11.5), MeanAll(x).Item())
	assert.Equal(t, []int{2, 0}, ArgMax(FromSlice([]float32{1, 3, 5, 9, 3, 9}, 2, 3), 1))
	v := Variance(FromSlice([]float32{1, 2, 3, 4}, 1, 4), 1, false)
	assert.InDelta(t, 1.25, v.Item(), 1e-6)
	st := SumTo(Ones(5, 2, 3), []int{2, 1})
	assert.Equal(t, []int{2, 1}, st.Shape())
	assert.Equal(t, []float32{15, 15}, st.Values())
}

func TestSoftmaxFamily(t *testing.T) {
	x := FromSlice([]float32{1, 2, 3, 1000, 1000, 1000, -5, float32(math.Inf(-1)), 0}, 3, 3)
	p := Softmax(x)
	lp := LogSoftmax(x)
	for r := range 3 {
		var rowMax float64 = math.Inf(-1)
		for c := range 3 {
			rowMax = math.Max(rowMax, float64(x.At(r, c)))
		}
		var denom float64
		for c := range 3 {
			denom += math.Exp(float64(x.At(r, c)) - rowMax)
		}
		for c := range 3 {
			want := math.Exp(float64(x.At(r, c))-rowMax) / denom
			assert.InDelta(t, want, p.At(r, c), 1e-6)
			if want > 0 {
				assert.InDelta(t, math.Log(want), lp.At(r, c), 1e-5)
			}
		}
	}
	logits := FromSlice([]float32{2, 1, 0.1, 0.5, 2.5, 0.2}, 2, 3)
	loss, probs, n := CrossEntropy(logits, []int{0, 1}, -1)
	require.Equal(t, 2, n)
	want := -(math.Log(float64(Softmax(logits).At(0, 0))) + math.Log(float64(Softmax(logits).At(1, 1)))) / 2
	assert.InDelta(t, want, loss, 1e-6)
	assert.Equal(t, Softmax(logits).Values(), probs.Values())
	loss1, _, n1 := CrossEntropy(logits, []int{0, -100}, -100)
	assert.Equal(t, 1, n1)
	assert.InDelta(t, -math.Log(float64(Softmax(logits).At(0, 0))), loss1, 1e-6)
	assert.Panics(t, func() { CrossEntropy(logits, []int{0, 3}, -1) })
}

func TestLayerNormMatchesDefinition(t *testing.T) {
	rng := newRNG(3)
	x := RandNormal(rng, 1, 2, 4, 7)
	w := RandNormal(rng, 1, 0.5, 7)
	b := RandNormal(rng, 0, 0.5, 7)
	y, mean, rstd := LayerNorm(x, w, b, 1e-5)
	mu := Mean(x, -1, true)
	den := Sqrt(AddScalar(Variance(x, -1, true), 1e-5))
	want := Add(Mul(Div(Sub(x, mu), den), w), b)
	for i, v := range want.Values() {
		assert.InDelta(t, v, y.Values()[i], 1e-5)
	}
	assert.Equal(t, []int{4}, mean.Shape())
	assert.InDelta(t, 1/den.At(2, 0), rstd.At(2), 1e-5)
}

func TestGatherScatterConcatSplit(t *testing.T) {
	table := Arange(0, 8, 1).Reshape(4, 2)
	g := Gather(table, []int{3, 0, 3})
	assert.Equal(t, []float32{6, 7, 0, 1, 6, 7}, g.Values())
	assert.Panics(t, func() { Gather(table, []int{4}) })
	acc := Zeros(4, 2)
	acc.ScatterAdd([]int{3, 0, 3}, Ones(3, 2))
	assert.Equal(t, []float32{1, 1, 0, 0, 0, 0, 2, 2}, acc.Values())

	a, b := Arange(0, 4, 1).Reshape(2, 2), Arange(10, 16, 1).Reshape(2, 3)
	c := Concat(1, a, b)
	assert.Equal(t, []float32{0, 1, 10, 11, 12, 2, 3, 13, 14, 15}, c.Values())
	parts := Split(c, 1, 2, 3)
	assert.Equal(t, a.Values(), parts[0].Values())
	assert.Equal(t, b.Values(), parts[1].Values())
	assert.Panics(t, func() { Split(c, 1, 2, 2) })
	assert.Panics(t, func() { Concat(0, a, b) })
}

// LayerNormBackward's weight and bias gradients sum over rows in blocks; check them against a
// float64 sum over enough rows to cross several blocks, for any worker count.
func TestLayerNormBackwardSumsOverManyRows(t *testing.T) {
	rng := newRNG(40)
	const rows, c = 100, 7
	x := RandNormal(rng, 0.3, 2, rows, c)
	w := RandNormal(rng, 1, 0.5, c)
	dy := RandNormal(rng, 0, 1, rows, c)
	_, mean, rstd := LayerNorm(x, w, nil, 1e-5)
	defer SetWorkers(0)
	for _, workers := range []int{1, 2, 3} {
		SetWorkers(workers)
		_, dw, db := LayerNormBackward(dy, x, w, mean, rstd)
		for i := range c {
			var sw, sb float64
			for r := range rows {
				n := (float64(x.At(r, i)) - float64(mean.At(r))) * float64(rstd.At(r))
				sw += float64(dy.At(r, i)) * n
				sb += float64(dy.At(r, i))
			}
			assert.InDelta(t, sw, dw.At(i), 1e-4*(1+math.Abs(sw)), "dweight[%d] with %d workers", i, workers)
			assert.InDelta(t, sb, db.At(i), 1e-4*(1+math.Abs(sb)), "dbias[%d] with %d workers", i, workers)
		}
	}
}

// Sums over a long axis run in float32 blocks added into float64: check against a float64 sum,
// for leading, middle and trailing axes and any worker count.
func TestSumOverLongAxes(t *testing.T) {
	x := RandNormal(newRNG(41), 0.5, 3, 3, 300, 5)
	defer SetWorkers(0)
	for _, workers := range []int{1, 2} {
		SetWorkers(workers)
		for _, axis := range []int{0, 1, 2} {
			got := Sum(x, axis, false)
			shape := got.Shape()
			for i := range got.Size() {
				// multi-index of output element i, with the reduced axis inserted back
				idx := make([]int, 0, 3)
				r := i
				for a := len(shape) - 1; a >= 0; a-- {
					idx = append([]int{r % shape[a]}, idx...)
					r /= shape[a]
				}
				var want float64
				for j := range x.Dim(axis) {
					full := append(append(append([]int{}, idx[:axis]...), j), idx[axis:]...)
					want += float64(x.At(full...))
				}
				assert.InDelta(t, want, got.Values()[i], 1e-5*(10+math.Abs(want)), "axis %d element %d", axis, i)
			}
		}
	}
	flat := Sum(RandNormal(newRNG(42), 0, 1, 1000, 3), 0, false)
	assert.Equal(t, []int{3}, flat.Shape())
}

// A bias gradient sums away a long leading axis in blocks of rows, on the workers that hold the
// rows: the same bits for any worker count, and a float64 sum's value.
func TestSumOverLongLeadingAxis(t *testing.T) {
	x := RandNormal(newRNG(43), 0.5, 3, 777, 300)
	defer SetWorkers(0)
	var first []float32
	for _, workers := range []int{1, 2, 3} {
		SetWorkers(workers)
		got := Sum(x, 0, false).Values()
		if first == nil {
			first = got
			for i := range got {
				var want float64
				for r := range 777 {
					want += float64(x.At(r, i))
				}
				assert.InDelta(t, want, got[i], 1e-5*(10+math.Abs(want)), "column %d", i)
			}
			continue
		}
		assert.Equal(t, first, got, "%d workers", workers)
	}
}
