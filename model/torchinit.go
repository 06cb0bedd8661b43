package model

import (
	"math"

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
	m, err := New(cfg, seed)
	if err != nil {
		return nil, err
	}
	g := torchrand.New(seed)
	C, V, T := cfg.NEmbd, cfg.VocabSize, cfg.BlockSize
	scratch := make([]float32, max(V, T, 4*C)*C)

	// 1. the constructors' draws, overwritten below: only their number matters
	g.FillNormal(scratch[:V*C], 0, 1) // wte
	g.FillNormal(scratch[:T*C], 0, 1) // wpe
	for _, b := range m.H {
		for _, l := range blockLinears(b) {
			out, in := l.Weight.Value.Dim(0), l.Weight.Value.Dim(1)
			g.Skip(out * in)
			if l.Bias != nil {
				g.Skip(out)
			}
		}
	}
	g.Skip(V * C) // lm_head

	// 2. GPT-2's initialisation, module by module
	const std = 0.02
	g.FillNormal(scratch[:V*C], 0, std) // wte, overwritten by lm_head's draw below
	g.FillNormal(m.WPE.Weight.Value.Data(), 0, std)
	for _, b := range m.H {
		for _, l := range blockLinears(b) {
			g.FillNormal(l.Weight.Value.Data(), 0, std)
		}
	}
	g.FillNormal(m.WTE.Weight.Value.Data(), 0, std) // lm_head, tied to wte

	// 3. the residual projections, scaled for depth
	projStd := float32(std / math.Sqrt(2*float64(cfg.NLayer)))
	for _, b := range m.H {
		g.FillNormal(b.Attn.CProj.Weight.Value.Data(), 0, projStd)
		g.FillNormal(b.MLP.CProj.Weight.Value.Data(), 0, projStd)
	}
	return m, nil
}

// blockLinears lists a block's Linear layers in the order PyTorch builds them.
func blockLinears(b *nn.Block) []*nn.Linear {
	return []*nn.Linear{b.Attn.CAttn, b.Attn.CProj, b.MLP.CFc, b.MLP.CProj}
}
