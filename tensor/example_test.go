package tensor_test

import (
	"fmt"

	"github.com/goformer/goformer/tensor"
)

// Views share storage: a transpose costs nothing until it is made contiguous.
func Example_views() {
	x := tensor.Arange(0, 6, 1).Reshape(2, 3) // (2, 3)
	t := x.T()                                // (3, 2), a view
	fmt.Println(t.Shape(), t.IsContiguous())
	fmt.Println(t.Values())
	t.Set(100, 0, 1) // writes x[1, 0]
	fmt.Println(x.At(1, 0))
	// Output:
	// [3 2] false
	// [0 3 1 4 2 5]
	// 100
}

// Binary operations broadcast as NumPy does: shapes align at the right and axes of length 1
// stretch.
func ExampleAdd() {
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	row := tensor.FromSlice([]float32{10, 20, 30}, 3)  // (3) stretches over the rows
	col := tensor.FromSlice([]float32{100, 200}, 2, 1) // (2, 1) stretches over the columns
	fmt.Println(tensor.Add(x, row).Values())
	fmt.Println(tensor.Add(x, col).Values())
	// Output:
	// [11 22 33 14 25 36]
	// [101 102 103 204 205 206]
}

// MatMul multiplies the last two axes and broadcasts the others; MatMulT and TMatMul read one
// operand transposed without copying it.
func ExampleMatMul() {
	a := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3) // (2, 3)
	b := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2) // (3, 2)
	fmt.Println(tensor.MatMul(a, b).Values())
	fmt.Println(tensor.MatMulT(a, a).Values()) // a·aᵀ, (2, 2)
	// Output:
	// [4 5 10 11]
	// [14 32 32 77]
}

// Softmax normalises the last axis; Sum reduces any axis.
func ExampleSoftmax() {
	logits := tensor.FromSlice([]float32{0, 0, 0, 0, 1, 2, 3, 4}, 2, 4)
	p := tensor.Softmax(logits)
	sums := tensor.Sum(p, 1, false)
	fmt.Printf("%.4f\n", p.Values()[4:])
	fmt.Printf("%.4f\n", sums.Values())
	// Output:
	// [0.0321 0.0871 0.2369 0.6439]
	// [1.0000 1.0000]
}
