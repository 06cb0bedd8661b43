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

// Transformer is the encoder–decoder of "Attention Is All You Need", computed as PyTorch's
// nn.Transformer computes it, wrapped the usual way: source and target token embeddings scaled
// by √C plus the sinusoidal positional encoding, the encoder stack and its final LayerNorm, the
// decoder stack (causal self-attention, cross-attention over the encoder's output, feed-forward)
// and its final LayerNorm, and a Linear output projection ("generator") to target logits.
//
// Parameter names are PyTorch's (src_embed.weight, transformer.encoder.layers.N.self_attn.…,
// transformer.decoder.layers.N.multihead_attn.…, generator.weight), so a state dict copies name
// for name (LoadTransformer, SaveTransformer). Its layer tree is written down once, by
// buildTransformer; everything else derives from it.
//
// Batches are padded on the right with Config.PadID: padding positions are masked as keys in
// every attention and ignored by the loss.
type Transformer struct {
	Config      TransformerConfig
	SrcEmbed    *nn.Embedding // (source V, C)
	TgtEmbed    *nn.Embedding // (V, C)
	PE          *nn.Sinusoidal
	Drop        nn.Dropout  // on the sum of embedding and position
	Encoder     []*nn.Block // nn.Transformer's encoder layers
	EncoderNorm *nn.LayerNorm
	Decoder     []*nn.Block // decoder layers, with cross-attention
	DecoderNorm *nn.LayerNorm
	Generator   *nn.Linear // (V, C)

	params     []*autograd.Var // in construction order, named
	mode       *nn.Mode
	dropoutSrc *rand.PCG // behind mode.RNG (nil in a frozen view), for checkpoints
	compactWeights
}

// buildTransformer describes the model's layers with PyTorch's names. It is the only place the
// architecture is written down.
func buildTransformer(cfg TransformerConfig, b *nn.Builder) *Transformer {
	c := cfg.DModel
	// nn.Transformer initialises every 2-D parameter with xavier_uniform_; the embeddings and the
	// generator get the same here (the annotated transformer's choice), so that √C·embedding
	// starts on the scale of the positional encoding.
	xavier := nn.Init{Kind: nn.InitXavier}
	m := &Transformer{
		Config:   cfg,
		SrcEmbed: &nn.Embedding{},
		TgtEmbed: &nn.Embedding{},
		PE:       nn.NewSinusoidal(cfg.MaxLen, c),
		Drop:     b.Dropout(cfg.Dropout),
	}
	m.SrcEmbed.Weight, m.SrcEmbed.Compact = b.Sub("src_embed").Matrix("weight", nn.LayerEmbedding, xavier, cfg.SrcVocabSize, c)
	m.TgtEmbed.Weight, m.TgtEmbed.Compact = b.Sub("tgt_embed").Matrix("weight", nn.LayerEmbedding, xavier, cfg.TgtVocabSize, c)
	lc := nn.LayerConfig{
		DModel: c, NHead: cfg.NHead, DimFF: cfg.DimFeedforward, Activation: cfg.Activation,
		NormFirst: cfg.NormFirst, LayerNormEps: cfg.layerNormEps(), Dropout: cfg.Dropout,
	}
	enc := b.Sub("transformer.encoder")
	for i := range cfg.NumEncoderLayers {
		m.Encoder = append(m.Encoder, nn.NewEncoderLayer(enc.Subf("layers.%d", i), lc))
	}
	m.EncoderNorm = nn.NewLayerNorm(enc.Sub("norm"), c, true, cfg.layerNormEps())
	dec := b.Sub("transformer.decoder")
	for i := range cfg.NumDecoderLayers {
		m.Decoder = append(m.Decoder, nn.NewDecoderLayer(dec.Subf("layers.%d", i), lc))
	}
	m.DecoderNorm = nn.NewLayerNorm(dec.Sub("norm"), c, true, cfg.layerNormEps())
	m.Generator = nn.NewLinearInit(b.Sub("generator"), c, cfg.TgtVocabSize, true, xavier,
		nn.Init{Kind: nn.InitUniform, Std: float32(1 / math.Sqrt(float64(c)))})
	return m
}

// BuildTransformer returns a Transformer for cfg whose parameters come from src, as loaders and
// checkpoints supply them (see Build for the GPT). It trains (dropout active), with a dropout
// generator seeded like NewTransformer's with seed 0; DropoutRNG gives access to it.
func BuildTransformer(cfg TransformerConfig, src nn.Source) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mode, dropoutSrc := trainingMode(0)
	m, err := assembleTransformer(cfg, src, mode)
	if err != nil {
		return nil, err
	}
	m.dropoutSrc = dropoutSrc
	return m, nil
}

// assembleTransformer builds a Transformer for cfg whose parameters come from src and whose
// dropout layers share mode (nil: evaluation, no dropout). cfg has been validated.
func assembleTransformer(cfg TransformerConfig, src nn.Source, mode *nn.Mode) (*Transformer, error) {
	return assembleTransformerWith(cfg, nn.NewBuilder(src, mode))
}

// assembleTransformerWith builds a Transformer for cfg with b.
func assembleTransformerWith(cfg TransformerConfig, b *nn.Builder) (*Transformer, error) {
	m := buildTransformer(cfg, b)
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m.params, m.mode = b.Params(), b.Mode()
	return m, nil
}

// transformerSpecs lists the parameters (names, shapes, layers) a Transformer of config cfg
// has, in construction order, without allocating them.
func transformerSpecs(cfg TransformerConfig) []nn.Spec {
	return nn.Specs(func(b *nn.Builder) { buildTransformer(cfg, b) })
}

// NewTransformer returns a Transformer with nn.Transformer's initialisation drawn from a
// generator seeded with seed. It trains (dropout active); evaluate it through Frozen.
//
// A config beyond the library's size bounds (see TransformerConfig.Validate), or whose
// parameters alone need more memory than the machine has, is an error before anything is
// allocated.
func NewTransformer(cfg TransformerConfig, seed uint64) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := fitsMemory(cfg, transformerParamCount(cfg)); err != nil {
		return nil, err
	}
	mode, dropoutSrc := trainingMode(seed)
	m, err := assembleTransformer(cfg, nn.Random(rand.New(rand.NewPCG(seed, weightStream))), mode)
	if err != nil {
		return nil, err
	}
	m.dropoutSrc = dropoutSrc
	return m, nil
}

// Frozen returns a view of m for evaluation and decoding: its parameters are constants sharing
// m's values, so forward passes and losses on it record no graph, and its dropout is off. Any
// number of goroutines may use frozen views at once; reading m's values while an optimiser
// updates them is a data race, so to decode or evaluate while m trains, use a Snapshot. A loss
// computed on a view has no graph: calling Backward on it panics, saying so.
func (m *Transformer) Frozen() *Transformer {
	f, err := m.view(nn.Shared(m.params, true), m.format, m.held)
	if err != nil {
		panic(fmt.Sprintf("model.Transformer.Frozen: %v", err)) // m was built from the same description
	}
	return f
}

// Snapshot returns a frozen copy of m: like Frozen, but with its own copy of the weights, so that
// it keeps computing what m computed at the moment of the snapshot while m goes on training (as
// GPT.Snapshot). The training goroutine takes a snapshot between optimiser steps (never during
// one) and hands it to other goroutines, which may then translate and evaluate with it freely.
func (m *Transformer) Snapshot() *Transformer {
	s, err := m.view(copied(m.params), m.format, m.held)
	if err != nil {
		panic(fmt.Sprintf("model.Transformer.Snapshot: %v", err)) // m was built from the same description
	}
	return s
}

// Parameters returns the model's parameters, each named as in PyTorch's state dict, in
// construction order.
func (m *Transformer) Parameters() []*autograd.Var { return slices.Clone(m.params) }

// DropoutRNG returns the generator m's dropout masks are drawn from, for checkpoints; nil for a
// frozen view.
func (m *Transformer) DropoutRNG() *rand.PCG { return m.dropoutSrc }

// NumParams returns the number of parameters, compact weight matrices included.
func (m *Transformer) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Value.Size()
	}
	return n + m.values()
}

// embed returns √C·embedding + PE for a (B, T) batch of ids starting at position pos0.
func (m *Transformer) embed(e *nn.Embedding, ids []int, b, t, pos0 int) *autograd.Var {
	x := autograd.Scale(e.Forward(ids, b, t), float32(math.Sqrt(float64(m.Config.DModel)))) // (B, T, C)
	return m.Drop.Forward(autograd.Add(x, m.PE.Forward(pos0, t)))
}

// encode runs the encoder over a (B, Ts) batch of source ids: (B, Ts, C), the memory the decoder
// attends to. pad flags the padding positions. att, when not nil, receives each layer's
// attention weights (B = 1).
func (m *Transformer) encode(src []int, b, ts int, pad []bool, att *TransformerInspection) *autograd.Var {
	x := m.embed(m.SrcEmbed, src, b, ts, 0)
	in := nn.BlockInput{Pad: pad}
	if att != nil {
		in.Weights = func(_ bool, w *tensor.Tensor) {
			att.Encoder = append(att.Encoder, w.Reshape(w.Shape()[1:]...)) // (1, NH, Ts, Ts) → (NH, Ts, Ts)
		}
	}
	for _, l := range m.Encoder {
		x = l.Forward(x, in)
	}
	return m.EncoderNorm.Forward(x)
}

// decode runs the decoder over a (B, Tt) batch of target ids against the memory: (B, Tt, C)
// after the final LayerNorm. att, when not nil, receives each layer's attention weights (B = 1).
func (m *Transformer) decode(mem *autograd.Var, memPad []bool, tgt []int, b, tt int, tgtPad []bool, att *TransformerInspection) *autograd.Var {
	x := m.embed(m.TgtEmbed, tgt, b, tt, 0)
	in := nn.BlockInput{Pad: tgtPad, Mem: mem, MemPad: memPad}
	if att != nil {
		in.Weights = func(cross bool, w *tensor.Tensor) {
			w = w.Reshape(w.Shape()[1:]...)
			if cross {
				att.Cross = append(att.Cross, w)
			} else {
				att.DecoderSelf = append(att.DecoderSelf, w)
			}
		}
	}
	for _, l := range m.Decoder {
		x = l.Forward(x, in)
	}
	return m.DecoderNorm.Forward(x)
}

// Forward returns the logits (B, Tt, V) of a batch of B sources and B target inputs (each
// row-major, padded on the right with PadID; targets start with BosID): position t of a target
// predicts its token t+1.
func (m *Transformer) Forward(src, tgt []int, b int) (*autograd.Var, error) {
	ts, tt, srcPad, tgtPad, err := m.checkBatch(src, tgt, b)
	if err != nil {
		return nil, err
	}
	mem := m.encode(src, b, ts, srcPad, nil)
	return m.Generator.Forward(m.decode(mem, srcPad, tgt, b, tt, tgtPad, nil)), nil
}

// Loss returns the mean cross-entropy of predicting tgtOut from (src, tgtIn), as Forward takes
// them; targets equal to PadID are left out of the mean.
func (m *Transformer) Loss(src, tgtIn, tgtOut []int, b int) (*autograd.Var, error) {
	if len(tgtOut) != len(tgtIn) {
		return nil, fmt.Errorf("model: %d targets for %d target inputs", len(tgtOut), len(tgtIn))
	}
	valid := 0
	for i, y := range tgtOut {
		if y < 0 || y >= m.Config.TgtVocabSize {
			return nil, fmt.Errorf("model: target id %d at position %d is outside the vocabulary [0, %d)", y, i, m.Config.TgtVocabSize)
		}
		if y != m.Config.PadID {
			valid++
		}
	}
	if valid == 0 && len(tgtOut) > 0 {
		return nil, fmt.Errorf("model: every target is padding")
	}
	logits, err := m.Forward(src, tgtIn, b)
	if err != nil {
		return nil, err
	}
	return autograd.CrossEntropy(logits, tgtOut, m.Config.PadID), nil
}

// CrossAttention returns, for one source and one target input (BOS first, as Forward takes
// them), the cross-attention weights of every decoder layer, each (NH, Tt, Ts): row t of head h
// says how much target position t looked at each source position. It runs on a frozen view.
func (m *Transformer) CrossAttention(src, tgt []int) ([]*tensor.Tensor, error) {
	in, err := m.Inspect(src, tgt)
	if err != nil {
		return nil, err
	}
	return in.Cross, nil
}

// checkBatch validates a batch of B sources and B targets and returns their lengths and padding
// flags.
func (m *Transformer) checkBatch(src, tgt []int, b int) (ts, tt int, srcPad, tgtPad []bool, err error) {
	if ts, srcPad, err = m.checkIDs("source", src, b, m.Config.SrcVocabSize); err != nil {
		return
	}
	if tt, tgtPad, err = m.checkIDs("target", tgt, b, m.Config.TgtVocabSize); err != nil {
		return
	}
	for r := range b {
		if tgtPad != nil && tgtPad[r*tt] {
			return 0, 0, nil, nil, fmt.Errorf("model: target row %d starts with padding (pad on the right)", r)
		}
	}
	return ts, tt, srcPad, tgtPad, nil
}

// checkIDs validates a (B, T) batch of ids and returns T and the padding flags (nil when there
// is no padding).
func (m *Transformer) checkIDs(what string, ids []int, b, vocab int) (int, []bool, error) {
	switch {
	case b <= 0:
		return 0, nil, fmt.Errorf("model: batch size must be positive, got %d", b)
	case len(ids) == 0 || len(ids)%b != 0:
		return 0, nil, fmt.Errorf("model: %d %s ids do not make %d non-empty rows", len(ids), what, b)
	case len(ids)/b > m.Config.MaxLen:
		return 0, nil, fmt.Errorf("model: %s of %d tokens is longer than max_len %d", what, len(ids)/b, m.Config.MaxLen)
	}
	t := len(ids) / b
	pad := make([]bool, len(ids))
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return 0, nil, fmt.Errorf("model: %s id %d at position %d is outside the vocabulary [0, %d)", what, id, i, vocab)
		}
		pad[i] = id == m.Config.PadID
	}
	for r := range b {
		if !slices.Contains(pad[r*t:(r+1)*t], false) {
			return 0, nil, fmt.Errorf("model: %s row %d is all padding", what, r)
		}
	}
	if !slices.Contains(pad, true) {
		pad = nil // nothing to mask
	}
	return t, pad, nil
}
