package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// Save a file, open it again, describe its tensors from the header and read one back.
func Example() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "weights.safetensors")

	tensors := map[string]*tensor.Tensor{
		"w": tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
		"b": tensor.FromSlice([]float32{0.5, -0.5}, 2),
	}
	if err := safetensors.Save(path, tensors, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}

	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fmt.Println(f.Metadata())
	for _, name := range f.Names() {
		fmt.Println(name, f.Dtype(name), f.Shape(name))
	}
	w, err := f.Float32("w")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Values())

	// bfloat16 keeps the top 16 bits of a float32; binary16 is IEEE half precision.
	fmt.Println(safetensors.BFloat16ToFloat32(0x4049), safetensors.Float16ToFloat32(0x3C00))
	// Output:
	// map[format:pt]
	// b F32 [2]
	// w F32 [2 3]
	// [1 2 3 4 5 6]
	// 3.140625 1
}
