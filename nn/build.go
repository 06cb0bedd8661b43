package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// A model is described once, by a function that builds its layers from a *Builder. The layers
// ask the builder for each parameter by name and shape; where the values come from is the
// builder's Source: fresh random draws (Random), a file (a Hugging Face directory, a checkpoint),
// or another model's parameters (Shared, which also gives frozen views). Listing a model's
// parameter names and shapes is building it with a source that records them (Specs).

// InitKind says how a fresh model fills a parameter.
type InitKind int

const (
	// InitNormal draws from N(0, Std²).
	InitNormal InitKind = iota
	// InitZeros fills with 0 (biases).
	InitZeros
	// InitOnes fills with 1 (LayerNorm scales).
	InitOnes
	// InitUniform draws from U(-Std, Std).
	InitUniform
	// InitXavier draws from U(-a, a) with a = √(6 / (fan_in + fan_out)) (PyTorch's
	// xavier_uniform_ on a 2-D weight (fan_out, fan_in)).
	InitXavier
)

// Init is how a fresh model fills a parameter.
type Init struct {
	Kind InitKind
	Std  float32 // InitNormal's standard deviation, InitUniform's bound
}

// Normal is Init{InitNormal, std}.
func Normal(std float32) Init { return Init{Kind: InitNormal, Std: std} }

// Layer kinds, as recorded in Spec.Layer: loaders use them where a file's layout differs by
// layer (GPT-2 stores Linear weights transposed).
const (
	LayerLinear    = "Linear"
	LayerEmbedding = "Embedding"
	LayerNormKind  = "LayerNorm"
	LayerOther     = ""
)

// Spec describes one parameter as a layer asks for it.
type Spec struct {
	Name  string // full dotted name, e.g. "h.0.attn.c_attn.weight"
	Shape []int  // goformer's layout: Linear weights are (out, in)
	Init  Init   // how a fresh model fills it
	Layer string // the kind of layer that owns it (LayerLinear, ...)
}

// A Source supplies the value of each parameter a model asks for. It returns an error for a
// parameter it cannot supply (missing from a file, wrong shape).
type Source func(s Spec) (*autograd.Var, error)

// Builder hands parameters to layer constructors under a name prefix ("h.3.attn."), collects
// them in construction order, and keeps the first error its Source returned. Layers built
// after an error get nil parameters: the caller checks Err before using the model.
type Builder struct {
	src     Source
	compact CompactSource // nil but in a compact inference view (NewCompactBuilder)
	prefix  string
	mode    *Mode
	shared  *buildState
}

type buildState struct {
	params []*autograd.Var
	specs  []Spec
	err    error
}

// NewBuilder returns a builder drawing parameters from src. mode is the training state the
// built model's dropout layers share (nil: evaluation, no dropout).
func NewBuilder(src Source, mode *Mode) *Builder {
	if mode == nil {
		mode = &Mode{}
	}
	return &Builder{src: src, mode: mode, shared: &buildState{}}
}

// Sub returns a builder for a child layer: its parameters are named prefix + name + ".".
func (b *Builder) Sub(name string) *Builder {
	c := *b
	c.prefix = b.prefix + name + "."
	return &c
}

// Subf is Sub with a formatted name, e.g. b.Subf("h.%d", i).
func (b *Builder) Subf(format string, args ...any) *Builder {
	return b.Sub(fmt.Sprintf(format, args...))
}

// Mode returns the training state shared by the model's dropout layers.
func (b *Builder) Mode() *Mode { return b.mode }

// Dropout returns a dropout layer of probability p reading the model's mode.
func (b *Builder) Dropout(p float32) Dropout { return Dropout{P: p, Mode: b.mode} }

// Param asks the source for parameter name (under the builder's prefix) of the given shape.
func (b *Builder) Param(name, layer string, init Init, shape ...int) *autograd.Var {
	s := b.spec(name, layer, init, shape...)
	if b.shared.err != nil {
		return nil
	}
	return b.value(s)
}

// spec records and returns the spec of parameter name.
func (b *Builder) spec(name, layer string, init Init, shape ...int) Spec {
	s := Spec{Name: b.prefix + name, Shape: slices.Clone(shape), Init: init, Layer: layer}
	b.shared.specs = append(b.shared.specs, s)
	return s
}

// value asks the source for s's value and collects it.
func (b *Builder) value(s Spec) *autograd.Var {
	st := b.shared
	v, err := b.src(s)
	if err == nil && v != nil && !slices.Equal(v.Shape(), s.Shape) {
		err = fmt.Errorf("parameter %s has shape %v, want %v", s.Name, v.Shape(), s.Shape)
	}
	if err != nil {
		st.err = err
		return nil
	}
	if v != nil {
		st.params = append(st.params, v)
	}
	return v
}

// Err returns the first error the source returned, if any.
func (b *Builder) Err() error { return b.shared.err }

// Params returns the parameters built so far, in construction order.
func (b *Builder) Params() []*autograd.Var { return slices.Clone(b.shared.params) }

// Specs returns the parameters asked for so far, in construction order.
func (b *Builder) Specs() []Spec { return slices.Clone(b.shared.specs) }

// Specs lists the parameters a model description asks for, without allocating any: build is
// called with a source that returns no values, so it must only store what it is given.
func Specs(build func(b *Builder)) []Spec {
	b := NewBuilder(func(Spec) (*autograd.Var, error) { return nil, nil }, nil)
	build(b)
	return b.Specs()
}

// Random is the source of a fresh model: each parameter is filled as its Init says, the random
// kinds drawn from rng in construction order.
func Random(rng *rand.Rand) Source {
	return func(s Spec) (*autograd.Var, error) {
		var t *tensor.Tensor
		switch s.Init.Kind {
		case InitZeros:
			t = tensor.Zeros(s.Shape...)
		case InitOnes:
			t = tensor.Ones(s.Shape...)
		case InitNormal:
			t = tensor.RandNormal(rng, 0, s.Init.Std, s.Shape...)
		case InitUniform:
			t = tensor.RandUniform(rng, -s.Init.Std, s.Init.Std, s.Shape...)
		case InitXavier:
			a := xavierBound(s.Shape)
			t = tensor.RandUniform(rng, -a, a, s.Shape...)
		default:
			return nil, fmt.Errorf("parameter %s: unknown init kind %d", s.Name, s.Init.Kind)
		}
		return autograd.NamedParam(s.Name, t), nil
	}
}

// xavierBound is xavier_uniform_'s bound for a weight of shape (fan_out, fan_in).
func xavierBound(shape []int) float32 {
	if len(shape) != 2 {
		panic(fmt.Sprintf("nn: Xavier initialisation of a %d-D parameter %v", len(shape), shape))
	}
	return float32(math.Sqrt(6 / float64(shape[0]+shape[1])))
}

// Shared is a source that hands out existing parameters by name: the values of vars, named by
// Var.Name. With frozen set, each is a constant sharing the value (no gradient flows to it), as
// for an inference view of a model that may be training elsewhere.
func Shared(vars []*autograd.Var, frozen bool) Source {
	byName := make(map[string]*autograd.Var, len(vars))
	for _, v := range vars {
		byName[v.Name()] = v
	}
	return func(s Spec) (*autograd.Var, error) {
		v, ok := byName[s.Name]
		if !ok {
			return nil, fmt.Errorf("no parameter %s to share", s.Name)
		}
		if frozen {
			return v.Detach(), nil
		}
		return v, nil
	}
}
