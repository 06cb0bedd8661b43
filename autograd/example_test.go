package autograd_test

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// A micrograd-style expression: build it, call Backward, read the gradients.
func Example() {
	scalar := func(v float32) *autograd.Var { return autograd.Param(tensor.Scalar(v)) }
	a, b := scalar(-4), scalar(2)
	c := autograd.Add(a, b)                                   // c = a + b = -2
	d := autograd.Add(autograd.Mul(a, b), autograd.Pow(b, 3)) // d = a·b + b³ = 0
	e := autograd.Mul(c, d)                                   // e = c·d
	f := autograd.Tanh(autograd.Scale(autograd.Add(e, c), 0.25))
	f.Backward()
	fmt.Printf("f = %.4f\n", f.Item())
	fmt.Printf("df/da = %.4f\n", a.Grad().Item())
	fmt.Printf("df/db = %.4f\n", b.Grad().Item())
	// By hand: f' = (1 − tanh²(−0.5))/4 = 0.19661; df/da = f'·(c·b + d + 1) = 0.19661·(−3);
	// df/db = f'·(c·(a + 3b²) + d + 1) = 0.19661·(−15).

	// Output:
	// f = -0.4621
	// df/da = -0.5898
	// df/db = -2.9492
}

// Gradients through a linear layer and the fused cross-entropy.
func ExampleCrossEntropy() {
	w := autograd.Param(tensor.FromSlice([]float32{1, 0, 0, 1, 1, -1}, 3, 2)) // (V=3, C=2)
	x := autograd.Const(tensor.FromSlice([]float32{1, 2}, 1, 2))              // (N=1, C=2)
	logits := autograd.MatMulT(x, w)                                          // (1, 3): [1 2 -1]
	loss := autograd.CrossEntropy(logits, []int{1}, -1)
	loss.Backward()
	fmt.Printf("loss %.4f\n", loss.Item())
	fmt.Println(w.Grad().Shape())
	// Output:
	// loss 0.3490
	// [3 2]
}
