package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
)

// GPT is a decoder-only transformer language model.
type GPT struct {
	Config Config
	WTE    *nn.Embedding // token embedding (V, C), also the output head (tied)
	WPE    *nn.Embedding // position embedding (BlockSize, C)
	H      []*nn.Block
	LnF    *nn.LayerNorm
	// Mode is shared by every layer: training (dropout on) or evaluation.
	Mode *nn.Mode

	// dropoutSrc is the source behind the Mode.RNG that New made, kept so that a checkpoint can
	// save and restore its state (a *rand.Rand does not expose its source).
	dropoutSrc *rand.PCG
	dropoutRNG *rand.Rand
}

// New returns a GPT with GPT-2's initialisation drawn from a generator seeded with seed.
// The same seed gives the same weights.
func New(cfg Config, seed uint64) (*GPT, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x676f666f726d6572)) // "goformer"
	dropoutSrc := rand.NewPCG(seed, 0x64726f706f7574)
	mode := &nn.Mode{Training: true, RNG: rand.New(dropoutSrc)}
	const std = 0.02
	m := &GPT{
		Config: cfg,
		WTE:    nn.NewEmbedding(rng, cfg.VocabSize, cfg.NEmbd, std),
		WPE:    nn.NewEmbedding(rng, cfg.BlockSize, cfg.NEmbd, std),
		LnF:    nn.NewLayerNorm(cfg.NEmbd, !cfg.NoBias, cfg.layerNormEps()),
		Mode:   mode,

		dropoutSrc: dropoutSrc,
		dropoutRNG: mode.RNG,
	}
	bc := nn.BlockConfig{
		NEmbd: cfg.NEmbd, NHead: cfg.NHead, NLayer: cfg.NLayer, Bias: !cfg.NoBias,
		Dropout: cfg.Dropout, LayerNormEps: cfg.layerNormEps(), GELUTanh: cfg.GELUTanh,
	}
	for range cfg.NLayer {
		m.H = append(m.H, nn.NewBlock(rng, bc, mode))
	}
	return m, nil
}

// Frozen returns a view of m for evaluation and inference: its parameters are constants sharing
// m's values, so forward passes and losses on it record no graph, and it has a Mode of its own,
// in evaluation (no dropout), so using it never changes m's mode. It is the goroutine-safe way to run a model without
// gradients: one goroutine may evaluate a frozen view while another trains a different model
// (reading m's values while an optimiser updates them is a data race, as with any shared slice).
// Generate uses one.
func (m *GPT) Frozen() *GPT {
	mode := &nn.Mode{}
	f := &GPT{Config: m.Config, WTE: m.WTE.Frozen(), WPE: m.WPE.Frozen(), LnF: m.LnF.Frozen(), Mode: mode}
	for _, b := range m.H {
		f.H = append(f.H, b.Frozen(mode))
	}
	return f
}

// Params lists every parameter with its Hugging Face name, in a fixed order. The tied output
// head is not listed separately: it is wte.
func (m *GPT) Params(prefix string, dst []nn.Param) []nn.Param {
	dst = m.WTE.Params(prefix+"wte.", dst)
	dst = m.WPE.Params(prefix+"wpe.", dst)
	for i, b := range m.H {
		dst = b.Params(fmt.Sprintf("%sh.%d.", prefix, i), dst)
	}
	return m.LnF.Params(prefix+"ln_f.", dst)
}

// NamedParams lists every parameter with its name.
func (m *GPT) NamedParams() []nn.Param { return m.Params("", nil) }

// Parameters returns the parameters' Vars, in NamedParams order (for optimisers).
func (m *GPT) Parameters() []*autograd.Var {
	ps := m.NamedParams()
	out := make([]*autograd.Var, len(ps))
	for i, p := range ps {
		out[i] = p.Var
	}
	return out
}

// NumParams returns the number of parameters (the tied head counted once).
func (m *GPT) NumParams() int {
	n := 0
	for _, p := range m.NamedParams() {
		n += p.Var.Value.Size()
	}
	return n
}

// Train switches dropout on.
func (m *GPT) Train() { m.Mode.Training = true }

// Eval switches dropout off.
func (m *GPT) Eval() { m.Mode.Training = false }

// ZeroGrad drops every parameter's gradient.
func (m *GPT) ZeroGrad() {
	for _, p := range m.NamedParams() {
		p.Var.ZeroGrad()
	}
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

// Forward returns the logits (B, T, V) for a batch of B sequences of T token ids, row-major.
func (m *GPT) Forward(ids []int, b, t int) (*autograd.Var, error) {
	if err := m.checkInput(ids, b, t, 0); err != nil {
		return nil, err
	}
	return m.logits(m.trunk(ids, b, t, 0, nil)), nil
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

// trunk runs embeddings, blocks and the final LayerNorm: (B, T) ids → (B, T, C). caches, when
// not nil, holds one KV cache per layer and pos0 is the position of the first id.
func (m *GPT) trunk(ids []int, b, t, pos0 int, caches []*nn.KVCache) *autograd.Var {
	pos := make([]int, t)
	for i := range pos {
		pos[i] = pos0 + i
	}
	tok := m.WTE.Forward(ids, b, t) // (B, T, C)
	wpe := m.WPE.Forward(pos, 1, t) // (1, T, C), broadcast over B
	x := autograd.Add(tok, wpe)
	x = nn.Dropout{P: m.Config.Dropout, Mode: m.Mode}.Forward(x)
	for i, blk := range m.H {
		var c *nn.KVCache
		if caches != nil {
			c = caches[i]
		}
		x = blk.Forward(x, c)
	}
	return m.LnF.Forward(x)
}

// logits applies the tied output head: (B, T, C) · wteᵀ → (B, T, V).
func (m *GPT) logits(x *autograd.Var) *autograd.Var {
	return autograd.MatMulT(x, m.WTE.Weight)
}
