package model

import (
	"errors"

	"github.com/goformer/goformer/internal/torchrand"
	"github.com/goformer/goformer/nn"
)

// NewLikePyTorch returns a GPT whose initial weights are, bit for bit, the ones PyTorch draws
// when a program calls torch.manual_seed(seed) and then builds nanoGPT's GPT (model.py), or the
// CharGPT of the PyTorch reference in ../shared/bench/torch_gpt.py, which draws in the same
// order. With the same seed, a goformer run can then start exactly where the PyTorch run starts.
//
// PyTorch's draws depend on more than the seed: on the order in which the layers are built, and
// on the CPU kernel that turns random words into normals. This follows the x86 AVX2 kernel (see
// internal/torchrand) and the construction order of those two programs:
//
//  1. building the modules: each nn.Embedding draws N(0, 1) and each nn.Linear draws a uniform
//     weight and, with bias, a uniform bias (kaiming_uniform_), in the order wte, wpe, then per
//     block c_attn, attn.c_proj, c_fc, mlp.c_proj, and last lm_head (V×C, no bias);
//  2. the GPT-2 initialisation overwrites them in the same order with N(0, 0.02²), biases set to
//     zero; lm_head comes last and, being tied, gives wte its final value;
//  3. each block's attn.c_proj and then mlp.c_proj weights are drawn again from
//     N(0, (0.02/√(2·n_layer))²).
//
// Dropout masks still come from goformer's own generator (seeded with seed as New does), so runs
// with dropout do not follow PyTorch's masks.
func NewLikePyTorch(cfg Config, seed uint64) (*GPT, error) {
	if !cfg.gpt2Blocks() {
		return nil, errors.New("model: NewLikePyTorch follows nanoGPT's construction, which has GPT-2's blocks only (no RMSNorm, rotary positions, SwiGLU, grouped KV heads, head width, QK-norm, per-projection biases or untied head)")
	}
	m, err := New(cfg, seed)
	if err != nil {
		return nil, err
	}
	g := torchrand.New(seed)
	C, V, T := cfg.NEmbd, cfg.VocabSize, cfg.BlockSize
	scratch := make([]float32, max(V, T)*C)
	specs := specs(cfg) // in construction order, as m.params
	isWeight := func(s nn.Spec) bool {
		return s.Layer == nn.LayerEmbedding || s.Layer == nn.LayerLinear && len(s.Shape) == 2
	}

	// 1. the constructors' draws, overwritten below: only their number matters
	for _, s := range specs {
		n := shapeSize(s.Shape)
		switch s.Layer {
		case nn.LayerEmbedding: // nn.Embedding: N(0, 1)
			g.FillNormal(scratch[:n], 0, 1)
		case nn.LayerLinear: // nn.Linear: kaiming_uniform_ weight, uniform bias
			g.Skip(n)
		}
	}
	g.Skip(V * C) // lm_head

	// 2. GPT-2's initialisation, module by module: weights N(0, 0.02²), biases zero (as New left
	// them); wte's draw is overwritten by lm_head's, which comes last
	const std = 0.02
	for i, s := range specs {
		switch {
		case s.Name == "wte.weight":
			g.FillNormal(scratch[:V*C], 0, std)
		case isWeight(s):
			g.FillNormal(m.params[i].Value.Data(), 0, std)
		}
	}
	g.FillNormal(m.WTE.Weight.Value.Data(), 0, std) // lm_head, tied to wte

	// 3. the residual projections (the weights the description scales for depth), drawn again
	for i, s := range specs {
		if isWeight(s) && s.Init.Kind == nn.InitNormal && s.Init.Std != std {
			g.FillNormal(m.params[i].Value.Data(), 0, s.Init.Std)
		}
	}
	return m, nil
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
