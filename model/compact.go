package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/internal/gemm"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// WeightFormat is how a GPT holds its weight matrices: float32, as every model trains, or, in an
// inference view made by Compact, bfloat16 or int8.
type WeightFormat int

const (
	// Float32 is the format of every model that trains; Compact(Float32) is Frozen.
	Float32 WeightFormat = iota
	// BFloat16 keeps float32's exponent range and 8 significant bits (round to nearest even):
	// half the bytes, a relative error of at most 2⁻⁸ per weight.
	BFloat16
	// Int8 holds each weight matrix as integers in [-127, 127] times one float32 scale per output
	// row (the row's largest magnitude / 127): about a quarter of the bytes, an error of at most
	// half a step per weight.
	Int8
)

// String returns the name ParseWeightFormat reads: "float32", "bf16" or "int8".
func (f WeightFormat) String() string {
	switch f {
	case Float32:
		return "float32"
	case BFloat16:
		return "bf16"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("WeightFormat(%d)", int(f))
}

// ParseWeightFormat reads a format's name: "float32" (or "f32", "fp32"), "bf16" (or
// "bfloat16"), "int8"; case does not matter.
func ParseWeightFormat(s string) (WeightFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "float32", "f32", "fp32":
		return Float32, nil
	case "bf16", "bfloat16":
		return BFloat16, nil
	case "int8":
		return Int8, nil
	}
	return 0, fmt.Errorf("model: unknown weight format %q (want float32, bf16 or int8)", s)
}

// Set parses s into f, so that a *WeightFormat is a flag.Value:
//
//	weights := model.Float32
//	flag.Var(&weights, "weights", "weight format for generation: float32, bf16 or int8")
func (f *WeightFormat) Set(s string) error {
	v, err := ParseWeightFormat(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Compact returns an inference view of m whose weight matrices (every Linear weight, and the
// token embedding, which is also the output head) are held only in format f; the small
// parameters (norms, biases, position embeddings) stay float32, shared with m as in Frozen.
// The view keeps no reference to m's float32 matrices, so once the caller drops m they can be
// freed: GPT-2 small's weight matrices take 494 MB as float32, 247 MB as bfloat16 and 124 MB as
// int8.
//
// A view is frozen (no gradients, no dropout) and goroutine-safe, like Frozen's. Forward, Loss,
// Generate, GenerateAll, GenerateBatch and Inspect work on it, computing in float32 with the
// weights widened as they are read: decoding, which streams every weight once per token, runs
// up to 2× (bfloat16) or 4× (int8) faster where memory bandwidth is the limit. What needs the
// float32 weights does not apply to it and returns an error: SaveHF, checkpoint.Save and
// Restore, CropBlockSize, SetDropout. Its Parameters are only the float32 ones.
//
// Compact(Float32) returns m.Frozen(). Compacting a view again to its own format returns a new
// view of the same weights; to another format, it is an error (convert the float32 model).
// Int8 cannot represent a NaN or an infinity: a non-finite weight is an error.
func (m *GPT) Compact(f WeightFormat) (*GPT, error) {
	conv, err := m.converter(f, m.params, compactable)
	if err != nil {
		return nil, err
	}
	return m.view(nn.Shared(m.params, true), f, conv)
}

// Compact returns an inference view of m whose weight matrices (attention and feed-forward
// weights, both embeddings, the generator) are held only in format f, as GPT.Compact does, with
// the same guarantees and refusals: it decodes but neither trains nor saves.
func (m *Transformer) Compact(f WeightFormat) (*Transformer, error) {
	conv, err := m.converter(f, m.params, func(s nn.Spec) bool {
		return len(s.Shape) == 2 && (s.Layer == nn.LayerLinear || s.Layer == nn.LayerEmbedding)
	})
	if err != nil {
		return nil, err
	}
	return m.view(nn.Shared(m.params, true), f, conv)
}

// view returns an evaluation-mode model of m's config in format f whose parameters come from src
// and its compact matrices from conv; Frozen, Snapshot and Compact differ only in these.
func (m *GPT) view(src nn.Source, f WeightFormat, conv compactSource) (*GPT, error) {
	cw := compactWeights{f, map[string]*compactMatrix{}}
	v, err := assembleWith(m.Config, cw.builder(src, conv))
	if err == nil && m.lora != nil { // the adapters stay float32, beside any compact weights
		err = v.attachLoRA(*m.lora, src)
	}
	if err != nil {
		return nil, err
	}
	v.compactWeights, v.hf = cw, m.hf // hf: what config.json said beyond the computation, for SaveHF
	v.stackSiblings()
	return v, nil
}

// view is GPT.view for the encoder–decoder.
func (m *Transformer) view(src nn.Source, f WeightFormat, conv compactSource) (*Transformer, error) {
	cw := compactWeights{f, map[string]*compactMatrix{}}
	v, err := assembleTransformerWith(m.Config, cw.builder(src, conv))
	if err == nil {
		v.compactWeights = cw
	}
	return v, err
}

// compactable reports whether Compact converts parameter s of a GPT: the weight matrices a
// decode step streams, every Linear weight (an untied head among them) and the token embedding
// (the tied head, the largest). The position table is read a row per token, so it stays
// float32 with the other small parameters.
func compactable(s nn.Spec) bool {
	return s.Layer == nn.LayerLinear && len(s.Shape) == 2 || s.Name == "wte.weight" || s.Name == hfEmbedTokens
}

// compactWeights is what a model holds beyond its float32 parameters: nothing in a model that
// trains, its weight matrices by name in a view made by Compact.
type compactWeights struct {
	format  WeightFormat // Float32 but in a view made by Compact
	compact map[string]*compactMatrix
}

// A compactSource makes a view's weight matrix s in compact form, or nil to keep it float32.
type compactSource func(s nn.Spec) (*compactMatrix, error)

// WeightFormat returns the format of the weight matrices: Float32 but for a view made by Compact.
func (cw *compactWeights) WeightFormat() WeightFormat { return cw.format }

// converter returns what makes the compactable matrices among params in format f; for the
// model's own format, its own matrices (Compact(Float32) of a float32 model is then Frozen).
func (cw *compactWeights) converter(f WeightFormat, params []*autograd.Var, compactable func(nn.Spec) bool) (compactSource, error) {
	switch {
	case f != Float32 && f != BFloat16 && f != Int8:
		return nil, fmt.Errorf("model.Compact: unknown weight format %d", int(f))
	case f == cw.format:
		return cw.held, nil
	case cw.format != Float32:
		return nil, fmt.Errorf("model.Compact: this view's weights are %v; make the %v view from the float32 model", cw.format, f)
	}
	byName := make(map[string]*autograd.Var, len(params))
	for _, p := range params {
		byName[p.Name()] = p
	}
	return func(s nn.Spec) (*compactMatrix, error) {
		if p, ok := byName[s.Name]; compactable(s) && ok {
			return newCompactMatrix(p.Value, f, s.Name)
		}
		return nil, nil
	}, nil
}

// held supplies a view's own compact matrices again, to another view of it: they never change.
func (cw *compactWeights) held(s nn.Spec) (*compactMatrix, error) { return cw.compact[s.Name], nil }

// builder returns a builder for an inference view whose weight matrices come from conv where it
// makes one, recorded in cw, and every other parameter from src.
func (cw *compactWeights) builder(src nn.Source, conv compactSource) *nn.Builder {
	return nn.NewCompactBuilder(src, func(s nn.Spec) (nn.Matrix, error) {
		w, err := conv(s)
		if err != nil || w == nil {
			return nil, err
		}
		cw.compact[s.Name] = w
		return w, nil
	})
}

// values returns how many weights the compact matrices hold (a stacked matrix once, however
// many names hold row ranges of it).
func (cw *compactWeights) values() (n int) {
	seen := map[*gemm.Compact]bool{}
	for _, w := range cw.compact {
		if !seen[w.w] {
			seen[w.w] = true
			r, c := w.w.Dims()
			n += r * c
		}
	}
	return n
}

// errCompactView explains why an operation that needs float32 weights refuses a compact view.
func (cw *compactWeights) errCompactView(op string) error {
	return fmt.Errorf("model.%s: this is a %v view (Compact), which holds no float32 weight matrices: use the float32 model it was made from", op, cw.format)
}

// compactMatrix is a weight matrix in bfloat16 or int8, an nn.Matrix over internal/gemm's
// kernels. Its products are constants: a compact weight is for inference.
type compactMatrix struct {
	w      *gemm.Compact
	lo, n  int // the rows a Narrow view computes; n = 0: all of them
	format WeightFormat
}

// newCompactMatrix converts t (N, K) to format f; name is for errors.
func newCompactMatrix(t *tensor.Tensor, f WeightFormat, name string) (*compactMatrix, error) {
	if t.Dims() != 2 {
		return nil, fmt.Errorf("model.Compact: parameter %s of shape %v is not a matrix", name, t.Shape())
	}
	n, k := t.Dim(0), t.Dim(1)
	data := t.Contiguous().Data()
	switch f {
	case BFloat16:
		return &compactMatrix{w: gemm.NewBF16(data, n, k), format: f}, nil
	case Int8:
		w, err := gemm.NewInt8(data, n, k)
		if err != nil {
			return nil, fmt.Errorf("model.Compact: parameter %s: %w", name, err)
		}
		return &compactMatrix{w: w, format: f}, nil
	}
	return nil, errors.New("model: no compact form for float32")
}

func (c *compactMatrix) Dims() (n, k int) {
	n, k = c.w.Dims()
	if c.n > 0 {
		n = c.n
	}
	return n, k
}

// Bytes returns the memory the whole matrix holds (values and scales).
func (c *compactMatrix) Bytes() int { return c.w.Bytes() }

// MulT returns x·Wᵀ + bias: (..., K) → (..., N). A Narrow view computes every row of W and
// keeps its own: it serves a cross-attention's queries, or its keys and values once per source.
func (c *compactMatrix) MulT(x, bias *autograd.Var) *autograd.Var {
	n, k := c.w.Dims()
	shape := x.Shape()
	if len(shape) == 0 || shape[len(shape)-1] != k {
		panic(fmt.Sprintf("model: input of shape %v times a (%d, %d) %v weight transposed", shape, n, k, c.format))
	}
	if x.RequiresGrad() {
		panic(fmt.Sprintf("model: input of shape %v requires a gradient, but a %v weight is for inference: run a frozen view", shape, c.format))
	}
	xs := x.Value.Contiguous().Data() // (M, K)
	out := append([]int(nil), shape...)
	out[len(out)-1] = n
	y := tensor.Empty(out...) // (..., N), written in full as (M, N)
	gemm.MulCompactT(len(xs)/k, xs, k, c.w, y.Data(), n)
	r := autograd.Output(y) // recyclable once read (autograd.Discard)
	if c.n > 0 {
		r = autograd.Narrow(r, len(out)-1, c.lo, c.n)
	}
	switch {
	case bias == nil:
	case bias.RequiresGrad():
		r = autograd.Add(r, bias)
	default: // onto the fresh output in place: no second tensor, and y stays recyclable
		r.Value.AddInPlace(bias.Value)
	}
	return r
}

// MulTRow sets dst (M·N) to x·Wᵀ + bias for the M rows of x (M·K), as MulT computes them
// (nn.RowMatrix).
func (c *compactMatrix) MulTRow(dst, x, bias []float32) {
	n, k := c.w.Dims()
	out := n
	if c.n > 0 {
		out = c.n
	}
	if len(x)%k != 0 || len(dst) != len(x)/k*out || (bias != nil && len(bias) != out) {
		panic(fmt.Sprintf("model: rows x (%d) times a (%d, %d) %v weight transposed, bias (%d), into (%d)", len(x), n, k, c.format, len(bias), len(dst)))
	}
	m := len(x) / k
	if c.n > 0 { // a row range: the whole product, as MulT does, then the range
		all := make([]float32, m*n)
		gemm.MulCompactT(m, x, k, c.w, all, n)
		for i := range m {
			copy(dst[i*out:(i+1)*out], all[i*n+c.lo:i*n+c.lo+c.n])
		}
	} else {
		gemm.MulCompactT(m, x, k, c.w, dst, n)
	}
	if bias != nil {
		for i := range m {
			row := dst[i*out : (i+1)*out]
			for j, b := range bias {
				row[j] += b
			}
		}
	}
}

// Rows returns rows ids of W in float32: (len(ids), K).
func (c *compactMatrix) Rows(ids []int) *autograd.Var {
	_, k := c.w.Dims()
	if c.lo > 0 {
		ids = slices.Clone(ids)
		for i := range ids {
			ids[i] += c.lo
		}
	}
	y := tensor.Empty(len(ids), k) // written in full
	c.w.Rows(ids, y.Data())
	return autograd.Const(y)
}

// Narrow returns the rows [lo, lo+n) of W.
func (c *compactMatrix) Narrow(lo, n int) nn.Matrix {
	v := *c
	v.lo, v.n = c.lo+lo, n
	return &v
}
