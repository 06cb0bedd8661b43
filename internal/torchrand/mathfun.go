package torchrand

import "math"

// This file evaluates log, sin and cos in float32 the way PyTorch's AVX2 normal_ kernel does
// (aten/src/ATen/native/cpu/avx_mathfun.h, after Cephes' logf and sinf): the same range
// reduction, the same polynomials, the same order of float32 operations. A correctly rounded
// libm differs from these in the last bits of about one value in three, so a Go program that
// wants PyTorch's normals must make exactly these roundings.
//
// PyTorch's build lets GCC contract a product and the sum that uses it into one fused
// multiply-add (-ffp-contract=fast): a product whose only use is an addition or subtraction is
// fused, the earlier product when both operands of the sum are products. fma32 marks those
// places; every other product is converted to float32 before it is used, which keeps the Go
// compiler from fusing it. With these roundings, 2²⁰ normals drawn by PyTorch were matched bit
// for bit (the fused places that decide any of them: the polynomials, the sum of y·z and e·q1,
// the cosine's c·z − z/2 and the sine's s·x + x).

// logCephes is avx_mathfun's log256_ps for one lane, for x > 0.
func logCephes(x float32) float32 {
	const (
		sqrtHalf = 0.707106781186547524
		p0       = 7.0376836292e-2
		p1       = -1.1514610310e-1
		p2       = 1.1676998740e-1
		p3       = -1.2420140846e-1
		p4       = +1.4249322787e-1
		p5       = -1.6668057665e-1
		p6       = +2.0000714765e-1
		p7       = -2.4999993993e-1
		p8       = +3.3333331174e-1
		q1       = -2.12194440e-4
		q2       = 0.693359375
	)
	if x < math.SmallestNonzeroFloat32*(1<<23) { // clamp denormals to the smallest normal
		x = math.Float32frombits(0x00800000)
	}
	bits := math.Float32bits(x)
	e := float32(int32(bits>>23)-0x7f) + 1
	// the mantissa, as a value in [0.5, 1)
	m := math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5))
	// below √½, use 2m−1 and one less in the exponent
	var tmp float32
	if m < sqrtHalf {
		tmp = m
		e--
	}
	m = m - 1
	m = m + tmp

	z := float32(m * m)
	y := float32(p0)
	for _, p := range [...]float32{p1, p2, p3, p4, p5, p6, p7, p8} {
		y = fma32(y, m, p)
	}
	y = float32(y * m)
	y = fma32(y, z, float32(e*q1))
	y = fma32(-z, 0.5, y)
	return fma32(e, q2, m+y)
}

// sinCosCephes is avx_mathfun's sincos256_ps for one lane.
func sinCosCephes(x float32) (sin, cos float32) {
	const (
		fourOverPi = 1.27323954473516
		minusDP1   = -0.78515625
		minusDP2   = -2.4187564849853515625e-4
		minusDP3   = -3.77489497744594108e-8
		sinP0      = -1.9515295891e-4
		sinP1      = 8.3321608736e-3
		sinP2      = -1.6666654611e-1
		cosP0      = 2.443315711809948e-005
		cosP1      = -1.388731625493765e-003
		cosP2      = 4.166664568298827e-002
	)
	signSin := math.Float32bits(x) & 0x80000000
	x = float32(math.Abs(float64(x)))

	// j: the octant, rounded up to even; y: j as a float
	j := int32(float32(x * fourOverPi))
	j = (j + 1) &^ 1
	y := float32(j)
	signSin ^= uint32(j&4) << 29
	useSinPoly := j&2 == 0 // which polynomial gives the sine; the other gives the cosine
	signCos := uint32(^(j-2)&4) << 29

	// x − y·π/4 in three parts, for extra precision
	x = fma32(y, minusDP1, x)
	x = fma32(y, minusDP2, x)
	x = fma32(y, minusDP3, x)

	z := float32(x * x)
	c := fma32(cosP0, z, cosP1)
	c = fma32(c, z, cosP2)
	c = float32(c * z)
	c = fma32(c, z, -float32(z*0.5))
	c = c + 1

	s := fma32(sinP0, z, sinP1)
	s = fma32(s, z, sinP2)
	s = float32(s * z)
	s = fma32(s, x, x)

	if useSinPoly {
		sin, cos = s, c
	} else {
		sin, cos = c, s
	}
	sin = math.Float32frombits(math.Float32bits(sin) ^ signSin)
	cos = math.Float32frombits(math.Float32bits(cos) ^ signCos)
	return sin, cos
}
