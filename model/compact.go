package model

import (
	"errors"
	"fmt"
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
// parameters (LayerNorms, biases, position embeddings) stay float32, shared with m as in Frozen.
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
	if f != Float32 && f != BFloat16 && f != Int8 {
		return nil, fmt.Errorf("model.Compact: unknown weight format %d", int(f))
	}
	switch {
	case f == m.format:
		return m.Frozen(), nil
	case m.format != Float32:
		return nil, fmt.Errorf("model.Compact: this view's weights are %v; make the %v view from the float32 model", m.format, f)
	}
	byName := make(map[string]*autograd.Var, len(m.params))
	for _, p := range m.params {
		byName[p.Name()] = p
	}
	v, err := assembleCompact(m.Config, nn.Shared(m.params, true), f, func(s nn.Spec) (nn.CompactWeight, error) {
		if !compactable(s) {
			return nil, nil
		}
		p, ok := byName[s.Name]
		if !ok {
			return nil, fmt.Errorf("no parameter %s", s.Name)
		}
		return newCompactMatrix(p.Value, f, s.Name)
	})
	if err == nil && m.lora != nil { // the adapters stay float32, beside the compact weights
		err = v.attachLoRA(*m.lora, nn.Shared(m.params, true))
	}
	if err != nil {
		return nil, fmt.Errorf("model.Compact: %w", err)
	}
	return v, nil
}

// WeightFormat returns the format of m's weight matrices: Float32 but for a view made by Compact.
func (m *GPT) WeightFormat() WeightFormat { return m.format }

// compactable reports whether Compact converts parameter s: the weight matrices a decode step
// streams, every Linear weight (an untied head among them) and the token embedding (the tied
// head, the largest). The position table is read a row per token, so it stays float32 with the
// other small parameters.
func compactable(s nn.Spec) bool {
	return s.Layer == nn.LayerLinear && len(s.Shape) == 2 || s.Name == "wte.weight" || s.Name == hfEmbedTokens
}

// assembleCompact builds an inference view of cfg whose weight matrices come from compact and
// its other parameters from src.
func assembleCompact(cfg Config, src nn.Source, f WeightFormat, compact nn.CompactSource) (*GPT, error) {
	held := map[string]nn.CompactWeight{}
	b := nn.NewCompactBuilder(src, func(s nn.Spec) (nn.CompactWeight, error) {
		w, err := compact(s)
		if w != nil && err == nil {
			held[s.Name] = w
		}
		return w, err
	})
	v := build(cfg, b)
	if err := b.Err(); err != nil {
		return nil, err
	}
	v.params, v.mode = b.Params(), b.Mode()
	v.format, v.compact = f, held
	return v, nil
}

// view returns an evaluation-mode model of m's kind whose parameters come from src: a float32
// model, or for a compact view another view with its weight matrices shared (they never
// change). Frozen and Snapshot differ only in src.
func (m *GPT) view(src nn.Source) (*GPT, error) {
	var v *GPT
	var err error
	if m.format == Float32 {
		v, err = assemble(m.Config, src, nil)
	} else {
		v, err = assembleCompact(m.Config, src, m.format, func(s nn.Spec) (nn.CompactWeight, error) {
			if w, ok := m.compact[s.Name]; ok {
				return w, nil
			}
			return nil, nil
		})
	}
	if err == nil && m.lora != nil {
		err = v.attachLoRA(*m.lora, src)
	}
	if err != nil {
		return nil, err
	}
	v.hf = m.hf // what config.json said beyond the computation, for SaveHF
	return v, nil
}

// errCompactView explains why an operation that needs float32 weights refuses a compact view.
func (m *GPT) errCompactView(op string) error {
	return fmt.Errorf("model.%s: this is a %v view (Compact), which holds no float32 weight matrices: use the float32 model it was made from", op, m.format)
}

// compactMatrix is a weight matrix in bfloat16 or int8: nn.CompactWeight over internal/gemm's
// kernels.
type compactMatrix struct{ w *gemm.Compact }

// newCompactMatrix converts t (N, K) to format f; name is for errors.
func newCompactMatrix(t *tensor.Tensor, f WeightFormat, name string) (nn.CompactWeight, error) {
	if t.Dims() != 2 {
		return nil, fmt.Errorf("parameter %s of shape %v is not a matrix", name, t.Shape())
	}
	n, k := t.Dim(0), t.Dim(1)
	data := t.Contiguous().Data()
	switch f {
	case BFloat16:
		return compactMatrix{gemm.NewBF16(data, n, k)}, nil
	case Int8:
		w, err := gemm.NewInt8(data, n, k)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		return compactMatrix{w}, nil
	}
	return nil, errors.New("model: no compact form for float32")
}

func (c compactMatrix) Dims() (n, k int) { return c.w.Dims() }

func (c compactMatrix) Bytes() int { return c.w.Bytes() }

// MulT returns x·Wᵀ: (M, K) → (M, N).
func (c compactMatrix) MulT(x *tensor.Tensor) *tensor.Tensor {
	n, k := c.w.Dims()
	m := x.Dim(0)
	y := tensor.Zeros(m, n)
	gemm.MulCompactT(m, x.Data(), k, c.w, y.Data(), n)
	return y
}

// Rows returns rows ids of W in float32: (len(ids), K).
func (c compactMatrix) Rows(ids []int) *tensor.Tensor {
	_, k := c.w.Dims()
	y := tensor.Zeros(len(ids), k)
	c.w.Rows(ids, y.Data())
	return y
}
