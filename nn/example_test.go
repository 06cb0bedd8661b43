package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// A transformer block maps (B, T, C) activations to the same shape and names its parameters
// as Hugging Face's GPT-2 does.
func ExampleBlock() {
	rng := rand.New(rand.NewPCG(1, 2))
	b := nn.NewBuilder(nn.Random(rng), nil) // fresh random parameters, evaluation mode
	block := nn.NewBlock(b.Sub("h.0"), nn.BlockConfig{NEmbd: 32, NHead: 4, NLayer: 2, Bias: true, LayerNormEps: 1e-5})
	x := autograd.Const(tensor.RandNormal(rng, 0, 1, 2, 5, 32)) // (B=2, T=5, C=32)
	y := block.Forward(x, nn.BlockInput{})
	fmt.Println(y.Shape())
	params := b.Params()
	fmt.Println(len(params), params[2].Name(), params[2].Shape())
	// Output:
	// [2 5 32]
	// 12 h.0.attn.c_attn.weight [96 32]
}

// An attention layer in the Llama family's layout: separate projections (q_proj with a bias,
// k_proj and v_proj without), 4 query heads sharing 2 KV heads of 6 channels each (HS is not
// C/NH), causal. Decoding keeps the keys and values of the 2 KV heads in a KV cache: a prefill of
// 4 positions, then one position at a time, computes what one pass over all 5 computes.
func ExampleAttention() {
	const c, nh, nkv, hs = 16, 4, 2, 6
	build := func(b *nn.Builder) *nn.Attention {
		return &nn.Attention{
			Q:     nn.NewLinear(b.Sub("q_proj"), c, nh*hs, true, 0.2),
			K:     nn.NewLinear(b.Sub("k_proj"), c, nkv*hs, false, 0.2),
			V:     nn.NewLinear(b.Sub("v_proj"), c, nkv*hs, false, 0.2),
			Out:   nn.NewLinear(b.Sub("o_proj"), nh*hs, c, false, 0.2),
			NHead: nh, NKVHead: nkv, HeadDim: hs, Causal: true,
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b := nn.NewBuilder(nn.Random(rng), nil)
	attn := build(b)
	x := tensor.RandNormal(rng, 0, 1, 1, 5, c) // (B=1, T=5, C)
	full := attn.Forward(autograd.Const(x), nn.AttnInput{}).Value

	// a cache is for inference: decode with a frozen view of the same parameters
	frozen := build(nn.NewBuilder(nn.Shared(b.Params(), true), nil))
	cache := &nn.KVCache{}
	frozen.Forward(autograd.Const(x.Narrow(1, 0, 4)), nn.AttnInput{Cache: cache})
	last := frozen.Forward(autograd.Const(x.Narrow(1, 4, 1)), nn.AttnInput{Cache: cache}).Value
	diff := 0.0
	for i, v := range full.Narrow(1, 4, 1).Values() {
		diff = math.Max(diff, math.Abs(float64(v-last.Values()[i])))
	}
	fmt.Println(full.Shape(), cache.Len(), diff < 1e-5)
	// Output:
	// [1 5 16] 5 true
}

// A decoding step of one sequence can run a block on one row of activations in reused buffers
// (StepRow) instead of as a graph of tensors: the same computation, bit for bit, without a
// tensor or record per op. Both paths here decode 6 positions one at a time, each with its own
// KV cache, on a frozen view (a cache is for inference).
func ExampleBlock_StepRow() {
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := nn.BlockConfig{NEmbd: 32, NHead: 4, NLayer: 2, Bias: true, LayerNormEps: 1e-5}
	b := nn.NewBuilder(nn.Random(rng), nil)
	nn.NewBlock(b.Sub("h.0"), cfg)
	frozen := nn.NewBlock(nn.NewBuilder(nn.Shared(b.Params(), true), nil).Sub("h.0"), cfg)
	fmt.Println(frozen.CanStepRow())

	graphCache, rowCache := &nn.KVCache{}, &nn.KVCache{}
	var scratch nn.RowScratch
	same := true
	for range 6 {
		x := tensor.RandNormal(rng, 0, 1, 1, 1, 32) // (B=1, T=1, C): the newest position
		y := frozen.Forward(autograd.Const(x), nn.BlockInput{Cache: graphCache}).Value.Values()
		row := x.Values()
		frozen.StepRow(row, rowCache, &scratch) // in place
		for i := range row {
			same = same && row[i] == y[i]
		}
	}
	fmt.Println(rowCache.Len(), same)
	// Output:
	// true
	// 6 true
}
