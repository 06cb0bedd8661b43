package model

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// GPT is a decoder-only transformer language model: GPT-2's architecture, as in nanoGPT.
//
// Its layer tree is described once, by build below; New, NewLikePyTorch, LoadHF, checkpoints,
// Frozen and the layouts of files all derive from that description.
type GPT struct {
	Config Config
	WTE    *nn.Embedding  // token embedding (V, C), also the output head (tied)
	WPE    *nn.Embedding  // position embedding (BlockSize, C); nil with sinusoidal positions
	PE     *nn.Sinusoidal // the fixed positional encoding, with Config.Positions "sinusoidal"
	Drop   nn.Dropout     // on the sum of the embeddings
	H      []*nn.Block
	LnF    *nn.LayerNorm

	params []*autograd.Var // in construction order, named
	// mode is shared by every dropout layer: a trainable model trains (dropout on), a frozen
	// view evaluates.
	mode *nn.Mode
	// dropoutSrc is the source behind mode.RNG, kept so that a checkpoint can save and restore
	// its state (a *rand.Rand does not expose its source). nil in a frozen view.
	dropoutSrc *rand.PCG
	// format is Float32 but in a view made by Compact, whose weight matrices are compact (held
	// by name, and in the layers' Compact fields) rather than among params.
	format  WeightFormat
	compact map[string]nn.CompactWeight
}

// Forward returns the logits (B, T, V) for a batch of B sequences of T token ids, row-major.
func (m *GPT) Forward(ids []int, b, t int) (*autograd.Var, error) {
	if err := m.checkInput(ids, b, t, 0); err != nil {
		return nil, err
	}
	return m.logits(m.trunk(ids, b, t, 0, nil)), nil
}

// trunk runs embeddings, blocks and the final LayerNorm: (B, T) ids → (B, T, C). caches, when
// not nil, holds one KV cache per layer and pos0 is the position of the first id.
func (m *GPT) trunk(ids []int, b, t, pos0 int, caches []*nn.KVCache) *autograd.Var {
	return m.trunkWatched(ids, b, t, pos0, caches, nil)
}

// trunkWatched is trunk, calling watch (when not nil) with each block and its input (B, T, C):
// how Inspect looks inside without a second copy of the forward pass.
func (m *GPT) trunkWatched(ids []int, b, t, pos0 int, caches []*nn.KVCache, watch func(layer int, blk *nn.Block, x *autograd.Var)) *autograd.Var {
	pos := make([]int, t)
	for i := range pos {
		pos[i] = pos0 + i
	}
	tok := m.WTE.Forward(ids, b, t) // (B, T, C)
	var wpe *autograd.Var
	if m.PE != nil {
		wpe = m.PE.Forward(pos0, t) // (1, T, C), a constant
	} else {
		wpe = m.WPE.Forward(pos, 1, t) // (1, T, C), broadcast over B
	}
	x := m.Drop.Forward(autograd.Add(tok, wpe))
	for i, blk := range m.H {
		var c *nn.KVCache
		if caches != nil {
			c = caches[i]
		}
		if watch != nil {
			watch(i, blk, x)
		}
		x = blk.Forward(x, c) // (B, T, C)
	}
	return m.LnF.Forward(x)
}

// logits applies the tied output head: (B, T, C) · wteᵀ → (B, T, V).
func (m *GPT) logits(x *autograd.Var) *autograd.Var {
	if m.WTE.Compact != nil {
		return nn.MulCompactT(x, m.WTE.Compact)
	}
	return autograd.MatMulT(x, m.WTE.Weight)
}

// build describes the GPT's layers, with Hugging Face's GPT-2 names (wte, wpe, h.N.…, ln_f). It
// is the only place the architecture is written down.
func build(cfg Config, b *nn.Builder) *GPT {
	const std = 0.02
	m := &GPT{
		Config: cfg,
		WTE:    nn.NewEmbedding(b.Sub("wte"), cfg.VocabSize, cfg.NEmbd, std),
	}
	if cfg.sinusoidal() {
		m.PE = nn.NewSinusoidal(cfg.BlockSize, cfg.NEmbd)
	} else {
		m.WPE = nn.NewEmbedding(b.Sub("wpe"), cfg.BlockSize, cfg.NEmbd, std)
	}
	m.Drop = b.Dropout(cfg.Dropout)
	bc := nn.BlockConfig{
		NEmbd: cfg.NEmbd, NHead: cfg.NHead, NLayer: cfg.NLayer, Bias: !cfg.NoBias,
		Dropout: cfg.Dropout, LayerNormEps: cfg.layerNormEps(), GELUTanh: cfg.GELUTanh,
	}
	for i := range cfg.NLayer {
		m.H = append(m.H, nn.NewBlock(b.Subf("h.%d", i), bc))
	}
	m.LnF = nn.NewLayerNorm(b.Sub("ln_f"), cfg.NEmbd, !cfg.NoBias, cfg.layerNormEps())
	return m
}

// assemble builds a GPT for cfg whose parameters come from src and whose dropout layers share
// mode.
func assemble(cfg Config, src nn.Source, mode *nn.Mode) (*GPT, error) {
	b := nn.NewBuilder(src, mode)
	m := build(cfg, b)
	if err := b.Err(); err != nil {
		return nil, err
	}
	m.params, m.mode = b.Params(), b.Mode()
	return m, nil
}

// specs lists the parameters a GPT of config cfg has, with their shapes, without allocating
// them.
func specs(cfg Config) []nn.Spec {
	return nn.Specs(func(b *nn.Builder) { build(cfg, b) })
}

// The streams of New's generators: "goformer" for the weights, "dropout" for the masks.
const (
	weightStream  = 0x676f666f726d6572
	dropoutStream = 0x64726f706f7574
)

// trainingMode returns the mode of a trainable model and the source behind its dropout generator.
func trainingMode(seed uint64) (*nn.Mode, *rand.PCG) {
	src := rand.NewPCG(seed, dropoutStream)
	return &nn.Mode{Training: true, RNG: rand.New(src)}, src
}

// New returns a GPT with GPT-2's initialisation drawn from a generator seeded with seed.
// The same seed gives the same weights. The model trains (its dropout layers are active); use
// Frozen to evaluate it.
func New(cfg Config, seed uint64) (*GPT, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkFits(cfg); err != nil {
		return nil, err
	}
	mode, dropoutSrc := trainingMode(seed)
	m, err := assemble(cfg, nn.Random(rand.New(rand.NewPCG(seed, weightStream))), mode)
	if err != nil {
		return nil, err
	}
	m.dropoutSrc = dropoutSrc
	return m, nil
}

// Build returns a GPT for cfg whose parameters come from src, as a loader (a checkpoint, a file
// of another layout) supplies them: src is asked for each parameter of the description by name and
// shape, in construction order, and its first error is returned. The model trains (dropout
// active) with a dropout generator seeded like New's with seed 0; DropoutRNG gives access to it.
func Build(cfg Config, src nn.Source) (*GPT, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mode, dropoutSrc := trainingMode(0)
	m, err := assemble(cfg, src, mode)
	if err != nil {
		return nil, err
	}
	m.dropoutSrc = dropoutSrc
	return m, nil
}

// DropoutRNG returns the generator m's dropout masks are drawn from, for saving and restoring its
// state (checkpoints do). It is nil for a frozen view, which has no dropout.
func (m *GPT) DropoutRNG() *rand.PCG { return m.dropoutSrc }

// Frozen returns a view of m for evaluation and inference: its parameters are constants sharing
// m's values, so forward passes and losses on it record no graph, and its dropout is off. It is
// the one way to run a model without gradients, and it is goroutine-safe: any number of
// goroutines may evaluate frozen views while another trains a different model. (Reading m's
// values while an optimiser updates them is a data race, as with any shared slice.) Of a
// compact view (Compact), it is another view of the same weights. A loss computed on a view has
// no graph: calling Backward on it panics, saying so (PyTorch raises "does not require grad").
func (m *GPT) Frozen() *GPT {
	f, err := m.view(nn.Shared(m.params, true))
	if err != nil {
		panic(fmt.Sprintf("model.GPT.Frozen: %v", err)) // m was built from the same description
	}
	return f
}

// Snapshot returns a frozen copy of m: like Frozen, but with its own copy of the weights, so that
// it keeps computing what m computed at the moment of the snapshot while m goes on training. It
// is how a program serves or evaluates a model that is training: the training goroutine takes a
// snapshot between optimiser steps (never during one) and hands it to other goroutines (through
// a channel or an atomic.Pointer, say), which may then use it freely and concurrently. Of a
// compact view, it copies the float32 parameters and shares the compact matrices, which never
// change.
func (m *GPT) Snapshot() *GPT {
	s, err := m.view(copied(m.params))
	if err != nil {
		panic(fmt.Sprintf("model.GPT.Snapshot: %v", err)) // m was built from the same description
	}
	return s
}

// copied is the source of a snapshot: a constant copy of each of params, by name.
func copied(params []*autograd.Var) nn.Source {
	byName := make(map[string]*autograd.Var, len(params))
	for _, p := range params {
		byName[p.Name()] = p
	}
	return func(s nn.Spec) (*autograd.Var, error) {
		p, ok := byName[s.Name]
		if !ok {
			return nil, fmt.Errorf("no parameter %s", s.Name)
		}
		return autograd.NamedParam(s.Name, p.Value.Clone()).Detach(), nil
	}
}

// rebuild rebuilds m for cfg (a changed dropout or context), sharing its parameters except those
// that src returns, and keeping its mode and dropout generator.
func (m *GPT) rebuild(cfg Config, src nn.Source) error {
	shared := nn.Shared(m.params, false)
	n, err := assemble(cfg, func(s nn.Spec) (*autograd.Var, error) {
		if v, err := src(s); v != nil || err != nil {
			return v, err
		}
		return shared(s)
	}, m.mode)
	if err != nil {
		return err
	}
	n.dropoutSrc = m.dropoutSrc
	*m = *n
	return nil
}

// Parameters returns the model's parameters, each named (Var.Name) after Hugging Face's GPT-2
// (wte.weight, h.0.attn.c_attn.weight, ...), in a fixed order. The tied output head is wte. A
// compact view's (Compact) are only those it keeps in float32: its weight matrices are not
// parameters.
func (m *GPT) Parameters() []*autograd.Var { return slices.Clone(m.params) }

// NumParams returns the number of parameters (the tied head counted once), compact weight
// matrices included.
func (m *GPT) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Value.Size()
	}
	for _, w := range m.compact {
		r, c := w.Dims()
		n += r * c
	}
	return n
}

// checkInput validates a (B, T) batch of ids that starts at position pos0.
func (m *GPT) checkInput(ids []int, b, t, pos0 int) error {
	switch {
	case b <= 0 || t <= 0:
		return fmt.Errorf("model: empty input: batch %d × length %d", b, t)
	case len(ids) != b*t:
		return fmt.Errorf("model: %d ids do not fill a batch of %d × %d", len(ids), b, t)
	case pos0+t > m.Config.BlockSize:
		return fmt.Errorf("model: sequence of %d tokens is longer than the context of %d", pos0+t, m.Config.BlockSize)
	}
	for i, id := range ids {
		if id < 0 || id >= m.Config.VocabSize {
			return fmt.Errorf("model: token id %d at position %d is outside the vocabulary [0, %d)", id, i, m.Config.VocabSize)
		}
	}
	return nil
}

// Loss returns the mean cross-entropy of predicting targets from ids (both B·T long, row-major).
// A target of -1 is ignored (left out of the mean).
func (m *GPT) Loss(ids, targets []int, b, t int) (*autograd.Var, error) {
	if err := m.checkInput(ids, b, t, 0); err != nil {
		return nil, err
	}
	if len(targets) != len(ids) {
		return nil, fmt.Errorf("model: %d targets for %d ids", len(targets), len(ids))
	}
	valid := 0
	for i, y := range targets {
		if y == IgnoreIndex {
			continue
		}
		if y < 0 || y >= m.Config.VocabSize {
			return nil, fmt.Errorf("model: target id %d at position %d is outside the vocabulary [0, %d)", y, i, m.Config.VocabSize)
		}
		valid++
	}
	if valid == 0 {
		return nil, fmt.Errorf("model: every target is ignored")
	}
	logits := m.logits(m.trunk(ids, b, t, 0, nil))
	return autograd.CrossEntropy(logits, targets, IgnoreIndex), nil
}

// IgnoreIndex marks a target position that Loss leaves out.
const IgnoreIndex = -1
