package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// GPT is a decoder-only transformer language model: GPT-2's architecture, as in nanoGPT, and the
// Llama family's (Llama, SmolLM, Mistral, Qwen2, Qwen3) as other configurations of it (Config's
// Norm, Positions, FeedForward, NKVHead, HeadDim, QKNorm, biases and UntiedHead).
//
// Its layer tree is described once, by build below; New, NewLikePyTorch, LoadHF, checkpoints,
// Frozen and the layouts of files all derive from that description.
type GPT struct {
	Config Config
	WTE    *nn.Embedding  // token embedding (V, C) (wte, model.embed_tokens), also the output head unless Head is set
	WPE    *nn.Embedding  // learned position embedding (BlockSize, C); nil with sinusoidal or rotary positions
	PE     *nn.Sinusoidal // the fixed positional encoding, with Config.Positions "sinusoidal"
	Rotary *nn.Rotary     // the rotation of queries and keys, with Config.Positions "rotary"
	Drop   nn.Dropout     // on the (summed) embeddings
	H      []*nn.Block
	LnF    nn.Norm    // the final norm (ln_f, model.norm): *nn.LayerNorm or *nn.RMSNorm
	Head   *nn.Linear // the untied output head lm_head (V, C), with Config.UntiedHead; nil when tied to WTE

	params []*autograd.Var // in construction order, named
	// mode is shared by every dropout layer: a trainable model trains (dropout on), a frozen
	// view evaluates.
	mode *nn.Mode
	// dropoutSrc is the source behind mode.RNG, kept so that a checkpoint can save and restore
	// its state (a *rand.Rand does not expose its source). nil in a frozen view.
	dropoutSrc *rand.PCG
	// a view made by Compact holds its weight matrices there (and in the layers' Compact
	// fields) rather than among params.
	compactWeights
	// hf is what LoadHF read from config.json beyond the computation (the architecture, the
	// special tokens), which SaveHF writes back.
	hf hfMeta
	// lora is the adapters' configuration in a model made by WithLoRA (nil otherwise), adapters
	// their A and B (also at the end of params), the only parameters such a model trains.
	lora     *LoRAConfig
	adapters []*autograd.Var
}

// Forward returns the logits (B, T, V) for a batch of B sequences of T token ids, row-major.
func (m *GPT) Forward(ids []int, b, t int) (*autograd.Var, error) {
	if err := m.checkInput(ids, b, t, 0); err != nil {
		return nil, err
	}
	return m.logits(m.LnF.Forward(m.trunk(ids, b, t, nil, nil))), nil
}

// trunk runs the embeddings and the blocks: (B, T) ids → (B, T, C), before the final
// LayerNorm. caches, when not nil, holds one KV cache per block, and the ids follow each row's
// cached positions (rows may be at different positions). watch, when not nil, receives each
// block's attention weights (B, NH, T, Tk): how Inspect looks inside without a second copy of the
// forward pass.
func (m *GPT) trunk(ids []int, b, t int, caches []*nn.KVCache, watch func(layer int, p *tensor.Tensor)) *autograd.Var {
	x := m.Drop.Forward(m.embed(ids, b, t, caches))
	for i, blk := range m.H {
		var in nn.BlockInput
		if caches != nil {
			in.Cache = caches[i]
		}
		if watch != nil {
			in.Weights = func(_ bool, p *tensor.Tensor) { watch(i, p) }
		}
		next := blk.Forward(x, in) // (B, T, C)
		if next != x && !next.RequiresGrad() {
			autograd.Discard(x)
		}
		x = next
	}
	return x
}

// embed returns the blocks' input (B, T, C) for ids: the token embeddings, plus the position
// embeddings of the positions after the caches' (nil: from 0), learned or sinusoidal (none with
// rotary positions).
func (m *GPT) embed(ids []int, b, t int, caches []*nn.KVCache) *autograd.Var {
	var pos []int // T positions, or B·T when the rows are at different positions
	if caches != nil {
		pos = caches[0].Positions(b, t)
	} else {
		pos = (*nn.KVCache)(nil).Positions(b, t)
	}
	tok := m.WTE.Forward(ids, b, t) // (B, T, C)
	var wpe *autograd.Var           // (1, T, C), broadcast over B, or (B, T, C)
	switch {
	case m.PE != nil:
		wpe = m.PE.Lookup(pos, b, t) // a constant
	case m.WPE != nil:
		wpe = m.WPE.Forward(pos, len(pos)/t, t)
	}
	if wpe == nil {
		return tok
	}
	x := autograd.Add(tok, wpe)
	if !x.RequiresGrad() { // recycled without a gradient to compute, as each block's input
		autograd.Discard(tok)
	}
	return x
}

// newCaches returns empty KV caches for rows sequences, one per block.
func (m *GPT) newCaches(rows int) []*nn.KVCache {
	cs := make([]*nn.KVCache, len(m.H))
	for i := range cs {
		cs[i] = nn.NewKVCache(rows)
	}
	return cs
}

// finalLogits returns the logits (B, T, V) of the trunk's output x (B, T, C) through the final
// norm; without a gradient to compute, x and the norm's output are recycled once the logits
// exist (autograd.Discard), as the blocks' intermediates are.
func (m *GPT) finalLogits(x *autograd.Var) *autograd.Var {
	h := m.LnF.Forward(x)
	out := m.logits(h)
	if !out.RequiresGrad() {
		autograd.Discard(x, h)
	}
	return out
}

// logits applies the output head: (B, T, C) · wteᵀ → (B, T, V) when tied, else lm_head.
func (m *GPT) logits(x *autograd.Var) *autograd.Var {
	if m.Head != nil {
		return m.Head.Forward(x)
	}
	return m.WTE.W().MulT(x, nil)
}

// build describes the GPT's layers. It is the only place the architecture is written down: GPT-2
// and the Llama family are choices made here from the Config. The parameters carry Hugging Face's
// names of the family whose layout the config has (llamaNames): GPT-2's (wte, wpe, h.N.ln_1,
// h.N.attn.c_attn, ..., ln_f) or Llama's (model.embed_tokens, model.layers.N.input_layernorm,
// model.layers.N.self_attn.q_proj, ..., model.norm, lm_head).
func build(cfg Config, b *nn.Builder) *GPT {
	const std = 0.02
	n := gpt2Names
	if cfg.llamaNames() {
		n = llamaNames
	}
	m := &GPT{
		Config: cfg,
		WTE:    nn.NewEmbedding(b.Sub(n.wte), cfg.VocabSize, cfg.NEmbd, std),
	}
	switch {
	case cfg.sinusoidal():
		m.PE = nn.NewSinusoidal(cfg.BlockSize, cfg.NEmbd)
	case cfg.rotary():
		m.Rotary = nn.NewRotary(cfg.headDim(), cfg.BlockSize, cfg.ropeTheta(), cfg.RopeScaling)
	default:
		m.WPE = nn.NewEmbedding(b.Sub("wpe"), cfg.BlockSize, cfg.NEmbd, std)
	}
	m.Drop = b.Dropout(cfg.Dropout)
	for i := range cfg.NLayer {
		m.H = append(m.H, newBlock(cfg, b.Subf(n.layer, i), n, m.Rotary))
	}
	m.LnF = newNorm(cfg, b.Sub(n.lnF), cfg.NEmbd)
	if cfg.UntiedHead {
		m.Head = nn.NewLinear(b.Sub("lm_head"), cfg.NEmbd, cfg.VocabSize, false, std)
	}
	return m
}

// newBlock describes one block: pre-norm, causal self-attention with NH query and NKV key/value
// heads of width HS (fused c_attn in GPT-2's layout, q_proj/k_proj/v_proj in Llama's), optional
// QK-norm and rotation, and the feed-forward (GELU MLP or SwiGLU). Weights are drawn from
// N(0, 0.02²), the two projections into the residual stream from N(0, (0.02/√(2·NLayer))²)
// (GPT-2's scheme, kept for every configuration), biases 0, norm scales 1.
func newBlock(cfg Config, b *nn.Builder, n blockNames, rot *nn.Rotary) *nn.Block {
	const std = 0.02
	projStd := float32(std / math.Sqrt(2*float64(cfg.NLayer)))
	c, nh, nkv, hs := cfg.NEmbd, cfg.NHead, cfg.nKVHead(), cfg.headDim()
	drop := b.Dropout(cfg.Dropout)
	blk := &nn.Block{AttnNorm: newNorm(cfg, b.Sub(n.ln1), c), AttnDrop: drop, FFDrop: drop}
	a := &nn.Attention{NHead: nh, NKVHead: cfg.NKVHead, HeadDim: cfg.HeadDim, Causal: true, Drop: drop}
	if rot != nil {
		a.Rotary = rot
	}
	ab := b.Sub(n.attn)
	if n.fusedQKV {
		a.QKV = nn.NewLinear(ab.Sub("c_attn"), c, (nh+2*nkv)*hs, cfg.qkvBias(), std)
	} else {
		a.Q = nn.NewLinear(ab.Sub("q_proj"), c, nh*hs, cfg.qkvBias(), std)
		a.K = nn.NewLinear(ab.Sub("k_proj"), c, nkv*hs, cfg.qkvBias(), std)
		a.V = nn.NewLinear(ab.Sub("v_proj"), c, nkv*hs, cfg.qkvBias(), std)
	}
	a.Out = nn.NewLinear(ab.Sub(n.out), nh*hs, c, cfg.outBias(), projStd)
	if cfg.QKNorm {
		a.QNorm, a.KNorm = newNorm(cfg, ab.Sub("q_norm"), hs), newNorm(cfg, ab.Sub("k_norm"), hs)
	}
	blk.Attn = a
	blk.FFNorm = newNorm(cfg, b.Sub(n.ln2), c)
	fb := b.Sub("mlp")
	if cfg.swiGLU() {
		blk.FF = nn.NewSwiGLU(fb, c, cfg.ffHidden(), cfg.ffBias(), std, projStd)
	} else {
		blk.FF = &nn.MLP{
			Up:   nn.NewLinear(fb.Sub("c_fc"), c, cfg.ffHidden(), cfg.ffBias(), std),
			Act:  nn.GELU{Tanh: cfg.GELUTanh},
			Down: nn.NewLinear(fb.Sub("c_proj"), cfg.ffHidden(), c, cfg.ffBias(), projStd),
		}
	}
	return blk
}

// newNorm describes a norm over dim channels of the config's kind.
func newNorm(cfg Config, b *nn.Builder, dim int) nn.Norm {
	if cfg.rmsNorm() {
		return nn.NewRMSNorm(b, dim, cfg.layerNormEps())
	}
	return nn.NewLayerNorm(b, dim, !cfg.NoBias, cfg.layerNormEps())
}

// blockNames are the names of one family's layers in Hugging Face's files.
type blockNames struct {
	wte, layer, lnF     string // the token embedding, the blocks (a format of the block number), the final norm
	ln1, attn, out, ln2 string // in a block: the norms, the attention and its output projection
	fusedQKV            bool   // one c_attn projection (GPT-2) or q_proj, k_proj, v_proj (Llama)
}

var (
	gpt2Names  = blockNames{wte: "wte", layer: "h.%d", lnF: "ln_f", ln1: "ln_1", attn: "attn", out: "c_proj", ln2: "ln_2", fusedQKV: true}
	llamaNames = blockNames{wte: "model.embed_tokens", layer: "model.layers.%d", lnF: "model.norm",
		ln1: "input_layernorm", attn: "self_attn", out: "o_proj", ln2: "post_attention_layernorm"}
)

// assemble builds a GPT for cfg whose parameters come from src and whose dropout layers share
// mode.
func assemble(cfg Config, src nn.Source, mode *nn.Mode) (*GPT, error) {
	return assembleWith(cfg, nn.NewBuilder(src, mode))
}

// assembleWith builds a GPT for cfg with b.
func assembleWith(cfg Config, b *nn.Builder) (*GPT, error) {
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
	f, err := m.view(nn.Shared(m.params, true), m.format, m.held)
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
	s, err := m.view(copied(m.params), m.format, m.held)
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
	if err == nil && m.lora != nil {
		err = n.attachLoRA(*m.lora, shared)
	}
	if err != nil {
		return err
	}
	n.dropoutSrc, n.hf = m.dropoutSrc, m.hf
	*m = *n
	return nil
}

// Parameters returns the model's parameters, each named (Var.Name) after Hugging Face's GPT-2
// (wte.weight, h.0.attn.c_attn.weight, ...) or Llama (model.embed_tokens.weight, ...), in a fixed
// order. A tied output head is the token embedding; an untied one is lm_head.weight. A
// compact view's (Compact) are only those it keeps in float32: its weight matrices are not
// parameters. A model with adapters (WithLoRA) has only their A and B as parameters: its other
// weights are frozen.
func (m *GPT) Parameters() []*autograd.Var {
	if m.lora != nil {
		return slices.Clone(m.adapters)
	}
	return slices.Clone(m.params)
}

// NumParams returns the number of parameters (the tied head counted once), compact weight
// matrices included.
func (m *GPT) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Value.Size()
	}
	return n + m.values()
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
	logits := m.logits(m.LnF.Forward(m.trunk(ids, b, t, nil, nil)))
	return autograd.CrossEntropy(logits, targets, IgnoreIndex), nil
}

// IgnoreIndex marks a target position that Loss leaves out.
const IgnoreIndex = -1
