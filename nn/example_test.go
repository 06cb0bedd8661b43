package nn_test

import (
	"fmt"
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
