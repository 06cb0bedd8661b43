package nn

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// LoRA is a low-rank adapter on a Linear layer (Hu et al., "LoRA: Low-Rank Adaptation of Large
// Language Models", 2021, as Hugging Face's PEFT builds it): the layer computes
//
//	y = x·Wᵀ + b + Scale·(x·Aᵀ)·Bᵀ,   A (r, in), B (out, r), Scale = alpha/r,
//
// so fine-tuning trains r·(in+out) numbers per layer instead of out·in, while W stays as it was
// (a constant in the model that trains the adapter). A starts random and B at zero: the adapted
// layer first computes exactly what the layer alone computes, and the gradient reaches B first.
// Training done, Delta (Scale·B·A, shaped like W) is folded into W and the adapter removed: the
// merged layer costs nothing more than the original.
type LoRA struct {
	A     *autograd.Var // (r, in): PEFT's lora_A.weight
	B     *autograd.Var // (out, r): PEFT's lora_B.weight
	Scale float32       // alpha/r
}

// NewLoRA builds an adapter of rank r for a Linear layer of in inputs and out outputs, its
// parameters named lora_A.weight and lora_B.weight under b (give b the layer's own prefix, as
// PEFT names them), scaled by alpha/r. Fresh, A is drawn as PEFT draws it
// (kaiming_uniform_ with a = √5, which is U(−1/√in, 1/√in)) and B is zero.
func NewLoRA(b *Builder, in, out, r int, alpha float32) *LoRA {
	if r <= 0 || in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn.NewLoRA: rank %d for a layer of %d inputs and %d outputs", r, in, out))
	}
	return &LoRA{
		A:     b.Param("lora_A.weight", LayerOther, Init{Kind: InitUniform, Std: float32(1 / math.Sqrt(float64(in)))}, r, in),
		B:     b.Param("lora_B.weight", LayerOther, Init{Kind: InitZeros}, out, r),
		Scale: alpha / float32(r),
	}
}

// Forward returns the adapter's term Scale·(x·Aᵀ)·Bᵀ: x (..., in) → (..., out), through the
// rank-r bottleneck (never forming the (out, in) product).
func (a *LoRA) Forward(x *autograd.Var) *autograd.Var {
	return autograd.Scale(autograd.MatMulT(autograd.MatMulT(x, a.A), a.B), a.Scale) // (..., r) → (..., out)
}

// Delta returns Scale·B·A (out, in): what the adapter adds to the layer's weight W.
func (a *LoRA) Delta() *tensor.Tensor {
	return tensor.Scale(tensor.MatMul(a.B.Value, a.A.Value), a.Scale) // (out, r)·(r, in)
}
