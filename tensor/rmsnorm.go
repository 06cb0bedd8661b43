package tensor

import (
	"github.com/goformer/goformer/internal/vecmath"
)

// RMSNorm normalises each row of x (..., C) by its root mean square and scales it by weight (C),
// as Llama-family models do instead of LayerNorm (no centring, no bias):
// y = (x·rstd)·w with rstd = 1/√(mean(x²) + eps). The mean of squares is accumulated in float64.
// It returns y and, for the backward pass, the per-row rstd (shape: x's without the last axis).
func RMSNorm(x, weight *Tensor, eps float32) (y, rstd *Tensor) {
	src, rows, c := lastAxisRows("RMSNorm", x)
	checkAffine("RMSNorm", x, weight, nil)
	w := weight.Contiguous().Data()
	y = uninit(x.shape...)
	rstd = uninit(x.shape[:len(x.shape)-1]...)
	parallelFor(rows, c*3, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			rstd.data[r] = RMSNormRow(y.data[r*c:(r+1)*c], src[r*c:(r+1)*c], w, eps)
		}
	})
	return y, rstd
}

// RMSNormBackward returns the gradients of RMSNorm with respect to x and weight, given the output
// gradient dy and the rstd the forward pass cached. With n̂ = x·rstd and g = dy·w:
// dx = rstd·(g − n̂·mean(g·n̂)) and dw = Σ dy·n̂ (summed over rows). This is LayerNorm's backward
// without the terms of the mean, and it shares LayerNorm's row kernels and its deterministic
// blocked sum of the weight gradient (float32 within blocks of lnBlock rows, float64 across).
func RMSNormBackward(dy, x, weight, rstd *Tensor) (dx, dweight *Tensor) {
	mustSameShape("RMSNormBackward", dy, x)
	xd, rows, c := lastAxisRows("RMSNormBackward", x)
	checkAffine("RMSNormBackward", x, weight, nil)
	gd := dy.Contiguous().Data()
	w := weight.Contiguous().Data()
	rd := rstd.Contiguous().Data()
	dx = uninit(x.shape...)
	nBlocks := (rows + lnBlock - 1) / lnBlock
	blockSums := uninit(nBlocks, c)
	parallelFor(nBlocks, lnBlock*c*6, func(blo, bhi int) {
		n, gw, unused := make([]float32, c), make([]float32, c), make([]float32, c)
		for blk := blo; blk < bhi; blk++ {
			bw := blockSums.data[blk*c : (blk+1)*c]
			clear(bw)
			for r := blk * lnBlock; r < min((blk+1)*lnBlock, rows); r++ {
				xr, gr, dst := xd[r*c:(r+1)*c], gd[r*c:(r+1)*c], dx.data[r*c:(r+1)*c]
				rs := rd[r]
				vecmath.Scale(n, xr, rs) // n̂
				vecmath.Mul(gw, gr, w)
				meanGN := float32(vecmath.Dot(gw, n) / float64(c))
				vecmath.LayerNormGrad(dst, gw, n, rs, 0, meanGN)
				vecmath.LayerNormParamGrad(bw, unused, gr, n)
			}
		}
	})
	dweight = uninit(c)
	parallelFor(c, nBlocks, func(lo, hi int) {
		s := make([]float64, hi-lo)
		for blk := range nBlocks {
			for i, v := range blockSums.data[blk*c+lo : blk*c+hi] {
				s[i] += float64(v)
			}
		}
		for i, v := range s {
			dweight.data[lo+i] = float32(v)
		}
	})
	release(blockSums)
	return dx, dweight
}
