package model

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// LoRAConfig says which Linear layers of a model get low-rank adapters (nn.LoRA), and how large.
type LoRAConfig struct {
	Rank int // r, the adapters' inner width; positive, and at most min(in, out) of each adapted layer
	// Alpha scales the adapters' term by Alpha/Rank (PEFT's lora_alpha); 0 means Rank (scale 1).
	Alpha float32
	// Targets names the layers to adapt by the end of their names, as PEFT's target_modules:
	// "q_proj" adapts every block's q_proj, "mlp.c_proj" only GPT-2's second MLP projection. nil
	// adapts every Linear of the blocks: the attention's q, k, v (GPT-2's fused c_attn) and
	// output projections and the feed-forward's (gate_proj, up_proj, down_proj; c_fc and
	// c_proj). The output head and the embeddings are never adapted.
	Targets []string
	// Seed draws the A matrices.
	Seed uint64
}

func (c LoRAConfig) alpha() float32 {
	if c.Alpha == 0 {
		return float32(c.Rank)
	}
	return c.Alpha
}

// loraStream is the PCG stream of the adapters' initial values.
const loraStream = 0x6c6f7261

// WithLoRA returns a model for fine-tuning m with low-rank adapters: the same layers, whose
// weights are constants sharing m's values (frozen: no gradient is computed for them, and m's
// parameters are never changed by training the result), with an adapter on each layer that c
// targets. Its Parameters are the adapters' A and B only, what an optimizer trains; it trains
// (dropout as m's Config says) and generates, evaluates (Frozen, Snapshot) and inspects like any
// model, the adapters included. Merge folds the adapters into the weights, and SaveHF saves the
// merged model, so what leaves the program is a plain model of m's layout; SaveLoRA saves the
// adapters alone in PEFT's layout, which LoadLoRA (or PEFT) puts back on the base model. A
// checkpoint (package checkpoint) saves the model whole, its frozen weights (BaseWeights) with
// the adapters, and resumes its training exactly.
func (m *GPT) WithLoRA(c LoRAConfig) (*GPT, error) {
	return m.withLoRA("WithLoRA", c, nn.Random(rand.New(rand.NewPCG(c.Seed, loraStream))))
}

// WithLoRAFrom is WithLoRA with adapters whose A and B come from src, asked for by name
// (<layer>.lora_A.weight, <layer>.lora_B.weight) and shape, rather than drawn from c.Seed: how a
// checkpoint puts back the adapters of a run it resumes. c.Seed seeds the dropout generator
// only, as in WithLoRA.
func (m *GPT) WithLoRAFrom(c LoRAConfig, src nn.Source) (*GPT, error) {
	return m.withLoRA("WithLoRAFrom", c, src)
}

// withLoRA is WithLoRA with the adapters' values from src; op names the caller in errors.
func (m *GPT) withLoRA(op string, c LoRAConfig, src nn.Source) (*GPT, error) {
	if m.format != Float32 {
		return nil, m.errCompactView(op)
	}
	fail := func(err error) (*GPT, error) { return nil, fmt.Errorf("model.%s: %w", op, err) }
	switch {
	case m.lora != nil:
		return fail(errors.New("the model already has adapters: Merge them first"))
	case c.Rank <= 0:
		return fail(fmt.Errorf("rank must be positive, got %d", c.Rank))
	case !(c.Alpha >= 0) || c.Alpha > 1e30:
		return fail(fmt.Errorf("alpha must be finite and >= 0, got %v", c.Alpha))
	}
	mode, dropoutSrc := trainingMode(c.Seed)
	l, err := assemble(m.Config, nn.Shared(m.params, true), mode)
	if err != nil {
		return fail(err)
	}
	l.dropoutSrc, l.hf = dropoutSrc, m.hf
	if err := l.attachLoRA(c, src); err != nil {
		return fail(err)
	}
	return l, nil
}

// LoRA returns the adapters' configuration, or nil for a model without adapters.
func (m *GPT) LoRA() *LoRAConfig {
	if m.lora == nil {
		return nil
	}
	c := *m.lora
	c.Targets = slices.Clone(c.Targets)
	return &c
}

// BaseWeights returns the frozen weights of a model with adapters (WithLoRA): the base model's,
// constants sharing its values, named and ordered as its Parameters are; nil for a model without
// adapters. With Parameters (the adapters) they are every weight the model computes with, what a
// checkpoint of it saves.
func (m *GPT) BaseWeights() []*autograd.Var {
	if m.lora == nil {
		return nil
	}
	return slices.Clone(m.params[:len(m.params)-len(m.adapters)])
}

// SameAdapters reports whether c and o put the same adapters on a model: the same rank, scale
// (Alpha, 0 meaning Rank) and targets. The seed, which only draws the adapters' initial values,
// does not count.
func (c LoRAConfig) SameAdapters(o LoRAConfig) bool {
	return c.Rank == o.Rank && c.alpha() == o.alpha() && slices.Equal(c.Targets, o.Targets)
}

// namedLinear is a Linear layer of the blocks with the name its parameters carry.
type namedLinear struct {
	name string // e.g. "model.layers.0.self_attn.q_proj"
	l    *nn.Linear
}

// blockLinears lists the Linear layers of m's blocks, in construction order.
func (m *GPT) blockLinears() []namedLinear {
	n := gpt2Names
	if m.Config.llamaNames() {
		n = llamaNames
	}
	var out []namedLinear
	add := func(name string, l *nn.Linear) {
		if l != nil {
			out = append(out, namedLinear{name, l})
		}
	}
	for i, blk := range m.H {
		p := fmt.Sprintf(n.layer, i) + "."
		a := p + n.attn + "."
		add(a+"c_attn", blk.Attn.QKV)
		add(a+"q_proj", blk.Attn.Q)
		add(a+"k_proj", blk.Attn.K)
		add(a+"v_proj", blk.Attn.V)
		add(a+n.out, blk.Attn.Out)
		switch ff := blk.FF.(type) {
		case *nn.MLP:
			add(p+"mlp.c_fc", ff.Up)
			add(p+"mlp.c_proj", ff.Down)
		case *nn.SwiGLU:
			add(p+"mlp.gate_proj", ff.Gate)
			add(p+"mlp.up_proj", ff.Up)
			add(p+"mlp.down_proj", ff.Down)
		}
	}
	return out
}

// targeted reports whether layer name is one that c adapts.
func (c LoRAConfig) targeted(name string) bool {
	if c.Targets == nil {
		return true
	}
	for _, t := range c.Targets {
		if name == t || strings.HasSuffix(name, "."+t) {
			return true
		}
	}
	return false
}

// attachLoRA puts an adapter on each of m's layers that c targets, its A and B (named
// <layer>.lora_A.weight, <layer>.lora_B.weight) from src, and records them as m's parameters.
func (m *GPT) attachLoRA(c LoRAConfig, src nn.Source) error {
	b := nn.NewBuilder(src, m.mode)
	for _, nl := range m.blockLinears() {
		if !c.targeted(nl.name) {
			continue
		}
		var out, in int
		if nl.l.Compact != nil {
			out, in = nl.l.Compact.Dims()
		} else {
			out, in = nl.l.Weight.Value.Dim(0), nl.l.Weight.Value.Dim(1)
		}
		if c.Rank > min(in, out) {
			// B·A has rank min(in, out) at most: a larger r only costs memory (and a rank from a
			// flag is not allowed to allocate what it likes)
			return fmt.Errorf("rank %d is more than the %d of %s (%d outputs, %d inputs)", c.Rank, min(in, out), nl.name, out, in)
		}
		nl.l.LoRA = nn.NewLoRA(b.Sub(nl.name), in, out, c.Rank, c.alpha())
	}
	if err := b.Err(); err != nil {
		return err
	}
	adapters := b.Params()
	if len(adapters) == 0 {
		return fmt.Errorf("no layer matches the LoRA targets %q", c.Targets)
	}
	c.Targets = slices.Clone(c.Targets)
	m.lora, m.adapters = &c, adapters
	m.params = append(m.params, adapters...)
	return nil
}

// Merge returns a plain model whose weights are m's with each adapter's Delta (alpha/r·B·A)
// added to the weight it adapts, and no adapters: it computes what m computes, up to float32
// rounding, at no extra cost, and all its parameters train. m (and the model it was made from)
// are left as they are. A model without adapters is an error.
func (m *GPT) Merge() (*GPT, error) {
	if m.lora == nil {
		return nil, errors.New("model.Merge: the model has no adapters")
	}
	if m.format != Float32 {
		return nil, m.errCompactView("Merge")
	}
	merged := map[string]*autograd.Var{}
	for _, nl := range m.blockLinears() {
		if nl.l.LoRA != nil {
			name := nl.name + ".weight"
			w := nl.l.Weight.Value.Clone()
			w.AddInPlace(nl.l.LoRA.Delta())
			merged[name] = autograd.NamedParam(name, w)
		}
	}
	byName := map[string]*autograd.Var{}
	for _, p := range m.params {
		byName[p.Name()] = p
	}
	out, err := Build(m.Config, func(s nn.Spec) (*autograd.Var, error) {
		if v, ok := merged[s.Name]; ok {
			return v, nil
		}
		p, ok := byName[s.Name]
		if !ok {
			return nil, fmt.Errorf("no parameter %s", s.Name)
		}
		return autograd.NamedParam(s.Name, p.Value.Clone()), nil
	})
	if err != nil {
		return nil, fmt.Errorf("model.Merge: %w", err)
	}
	out.hf = m.hf
	return out, nil
}
