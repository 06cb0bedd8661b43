package nn

import "github.com/goformer/goformer/autograd"

// RMSNorm normalises over the last axis by the root mean square, with a learned scale and no
// shift: y = x/√(mean(x²) + Eps)·Weight. It is the Llama family's norm in place of LayerNorm
// (Hugging Face's LlamaRMSNorm, parameter "weight").
type RMSNorm struct {
	Weight *autograd.Var // (C), initialised to 1
	Eps    float32
}

// NewRMSNorm builds an RMSNorm over dim channels: scale 1 when fresh.
func NewRMSNorm(b *Builder, dim int, eps float32) *RMSNorm {
	return &RMSNorm{Weight: b.Param("weight", LayerNormKind, Init{Kind: InitOnes}, dim), Eps: eps}
}

// Forward normalises x (..., C).
func (n *RMSNorm) Forward(x *autograd.Var) *autograd.Var {
	return autograd.RMSNorm(x, n.Weight, n.Eps)
}
