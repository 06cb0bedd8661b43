package tensor

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/internal/vecmath"
)

// LayerNorm normalises each row of x (..., C) over its last axis and applies the affine weight
// and bias (both (C); bias may be nil): y = (x − mean)·rstd·w + b with rstd = 1/√(var + eps).
// It returns y and, for the backward pass, the per-row mean and rstd (shape: x's without the
// last axis), as llm.c caches them.
func LayerNorm(x, weight, bias *Tensor, eps float32) (y, mean, rstd *Tensor) {
	src, rows, c := lastAxisRows("LayerNorm", x)
	checkAffine("LayerNorm", x, weight, bias)
	if plain {
		return layerNormPlain(x, weight, bias, eps)
	}
	// the fast path: vecmath's fused row kernels, rows in parallel
	w := weight.Contiguous().Data()
	var b []float32
	if bias != nil {
		b = bias.Contiguous().Data()
	}
	y = uninit(x.shape...)
	statShape := x.shape[:len(x.shape)-1]
	mean, rstd = uninit(statShape...), uninit(statShape...)
	parallelFor(rows, c*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			mean.data[r], rstd.data[r] = LayerNormRow(y.data[r*c:(r+1)*c], src[r*c:(r+1)*c], w, b, eps)
		}
	})
	return y, mean, rstd
}

// layerNormPlain is LayerNorm by its definition, one row (r) and one channel (i) at a time, with
// the sums in float64: the oracle the fast path is tested against.
func layerNormPlain(x, weight, bias *Tensor, eps float32) (y, mean, rstd *Tensor) {
	src, rows, c := lastAxisRows("LayerNorm", x)
	y = Zeros(x.shape...)
	mean, rstd = Zeros(x.shape[:len(x.shape)-1]...), Zeros(x.shape[:len(x.shape)-1]...)
	for r := range rows {
		row := src[r*c : (r+1)*c]
		var sum, sq float64
		for _, v := range row {
			sum += float64(v)
		}
		mu := sum / float64(c) // mean
		for _, v := range row {
			sq += (float64(v) - mu) * (float64(v) - mu)
		}
		rs := 1 / math.Sqrt(sq/float64(c)+float64(eps)) // 1/√(var + eps), var without Bessel's correction
		for i, v := range row {
			out := (float64(v) - mu) * rs * float64(weight.At(i))
			if bias != nil {
				out += float64(bias.At(i))
			}
			y.data[r*c+i] = float32(out)
		}
		mean.data[r], rstd.data[r] = float32(mu), float32(rs)
	}
	return y, mean, rstd
}

func checkAffine(op string, x, weight, bias *Tensor) {
	c := x.shape[len(x.shape)-1]
	if len(weight.shape) != 1 || weight.shape[0] != c || (bias != nil && (len(bias.shape) != 1 || bias.shape[0] != c)) {
		bs := "nil"
		if bias != nil {
			bs = shapeStr(bias.shape)
		}
		panic(fmt.Sprintf("tensor.%s: input %v needs weight and bias of shape [%d], got %v and %s", op, x.shape, c, weight.shape, bs))
	}
}

// lnBlock is the number of rows whose weight and bias gradients LayerNormBackward sums in
// float32 before adding them into float64: short enough that float32 loses nothing that matters.
const lnBlock = 32

// LayerNormBackward returns the gradients of LayerNorm with respect to x, weight and bias, given
// the output gradient dy and what the forward pass cached. With n̂ = (x − mean)·rstd and
// g = dy·w: dx = rstd·(g − mean(g) − n̂·mean(g·n̂)), dw = Σ dy·n̂, db = Σ dy (sums over rows).
func LayerNormBackward(dy, x, weight, mean, rstd *Tensor) (dx, dweight, dbias *Tensor) {
	mustSameShape("LayerNormBackward", dy, x)
	xd, rows, c := lastAxisRows("LayerNormBackward", x)
	gd := dy.Contiguous().Data()
	w := weight.Contiguous().Data()
	md, rd := mean.Contiguous().Data(), rstd.Contiguous().Data()
	dx = uninit(x.shape...)
	// dweight and dbias sum over rows: each block of lnBlock rows sums in float32 into its own
	// slot of blockSums (dw's c sums, then db's), and the block sums are added into float64 in
	// block order at the end. The blocks are fixed, whoever computes them, so the result does not
	// depend on the number of workers or on scheduling.
	nBlocks := (rows + lnBlock - 1) / lnBlock
	blockSums := uninit(nBlocks, 2, c)
	parallelFor(nBlocks, lnBlock*c*8, func(blo, bhi int) {
		n, gw := make([]float32, c), make([]float32, c)
		for blk := blo; blk < bhi; blk++ {
			sums := blockSums.data[blk*2*c : (blk+1)*2*c]
			clear(sums)
			bw, bb := sums[:c], sums[c:]
			for r := blk * lnBlock; r < min((blk+1)*lnBlock, rows); r++ {
				xr, gr, dst := xd[r*c:(r+1)*c], gd[r*c:(r+1)*c], dx.data[r*c:(r+1)*c]
				m, rs := md[r], rd[r]
				vecmath.SubScale(n, xr, m, rs) // n̂
				vecmath.Mul(gw, gr, w)
				meanG := float32(vecmath.Sum(gw) / float64(c))
				meanGN := float32(vecmath.Dot(gw, n) / float64(c))
				vecmath.LayerNormGrad(dst, gw, n, rs, meanG, meanGN)
				vecmath.LayerNormParamGrad(bw, bb, gr, n)
			}
		}
	})
	dweight, dbias = uninit(c), uninit(c)
	parallelFor(c, nBlocks*2, func(lo, hi int) {
		sw, sb := make([]float64, hi-lo), make([]float64, hi-lo)
		for blk := range nBlocks {
			sums := blockSums.data[blk*2*c : (blk+1)*2*c]
			for i, v := range sums[lo:hi] {
				sw[i] += float64(v)
			}
			for i, v := range sums[c+lo : c+hi] {
				sb[i] += float64(v)
			}
		}
		for i := range sw {
			dweight.data[lo+i], dbias.data[lo+i] = float32(sw[i]), float32(sb[i])
		}
	})
	release(blockSums)
	return dx, dweight, dbias
}
