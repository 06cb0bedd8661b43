package nn

import "github.com/goformer/goformer/autograd"

// Frozen copies of layers, for inference. Their parameters are constants that share the
// original's values, so a forward pass through them records no graph (an op records one only
// when an input requires a gradient), and their dropout reads their own Mode (evaluation)
// rather than the model's. Inference can then run in one goroutine while another trains the
// original; each sees the values as they are at that moment.

func frozen(v *autograd.Var) *autograd.Var {
	if v == nil {
		return nil
	}
	return v.Detach()
}

// Frozen returns l with constant parameters sharing its values.
func (l *Linear) Frozen() *Linear { return &Linear{Weight: frozen(l.Weight), Bias: frozen(l.Bias)} }

// Frozen returns e with a constant table sharing its values.
func (e *Embedding) Frozen() *Embedding { return &Embedding{Weight: frozen(e.Weight)} }

// Frozen returns ln with constant parameters sharing its values.
func (ln *LayerNorm) Frozen() *LayerNorm {
	return &LayerNorm{Weight: frozen(ln.Weight), Bias: frozen(ln.Bias), Eps: ln.Eps}
}

// Frozen returns bl with constant parameters sharing its values, its dropout reading mode.
func (bl *Block) Frozen(mode *Mode) *Block {
	a, m := bl.Attn, bl.MLP
	return &Block{
		Ln1: bl.Ln1.Frozen(),
		Attn: &CausalSelfAttention{
			CAttn: a.CAttn.Frozen(), CProj: a.CProj.Frozen(), NHead: a.NHead,
			AttnDrop: Dropout{P: a.AttnDrop.P, Mode: mode}, ResidDrop: Dropout{P: a.ResidDrop.P, Mode: mode},
		},
		Ln2: bl.Ln2.Frozen(),
		MLP: &MLP{CFc: m.CFc.Frozen(), Act: m.Act, CProj: m.CProj.Frozen(), Drop: Dropout{P: m.Drop.P, Mode: mode}},
	}
}
