package tensor

import "math/rand/v2"

// RandUniform returns a tensor of the given shape with values drawn uniformly from [lo, hi) by r.
// The same seed gives the same tensor.
func RandUniform(r *rand.Rand, lo, hi float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = lo + (hi-lo)*r.Float32()
	}
	return t
}

// RandNormal returns a tensor of the given shape with values drawn from N(mean, std²) by r.
func RandNormal(r *rand.Rand, mean, std float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = mean + std*float32(r.NormFloat64())
	}
	return t
}
