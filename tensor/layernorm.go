package tensor

import (
	"fmt"
	"math"
)

// LayerNorm normalises each row of x (..., C) over its last axis and applies the affine weight
// and bias (both (C); bias may be nil): y = (x − mean)·rstd·w + b with rstd = 1/√(var + eps).
// It returns y and, for the backward pass, the per-row mean and rstd (shape: x's without the
// last axis), as llm.c caches them.
func LayerNorm(x, weight, bias *Tensor, eps float32) (y, mean, rstd *Tensor) {
	src, rows, c := lastAxisRows("LayerNorm", x)
	checkAffine("LayerNorm", x, weight, bias)
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
			row, dst := src[r*c:(r+1)*c], y.data[r*c:(r+1)*c]
			var s float64
			for _, v := range row {
				s += float64(v)
			}
			m := s / float64(c)
			var ss float64
			for _, v := range row {
				d := float64(v) - m
				ss += d * d
			}
			rs := 1 / math.Sqrt(ss/float64(c)+float64(eps))
			mf, rf := float32(m), float32(rs)
			for i, v := range row {
				dst[i] = (v - mf) * rf * w[i]
			}
			if b != nil {
				for i := range dst {
					dst[i] += b[i]
				}
			}
			mean.data[r], rstd.data[r] = mf, rf
		}
	})
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
	// dweight and dbias sum over rows: each worker keeps its own partial sums (in float64, as
	// there may be many rows) and they are added in worker order at the end.
	type partial struct{ dw, db []float64 }
	nChunks := max(1, min(Workers(), rows))
	parts := make([]partial, nChunks)
	chunk := (rows + nChunks - 1) / max(nChunks, 1)
	parallelFor(nChunks, rows*c*8/nChunks+1, func(clo, chi int) {
		for ch := clo; ch < chi; ch++ {
			p := partial{make([]float64, c), make([]float64, c)}
			for r := ch * chunk; r < min((ch+1)*chunk, rows); r++ {
				xr, gr, dst := xd[r*c:(r+1)*c], gd[r*c:(r+1)*c], dx.data[r*c:(r+1)*c]
				m, rs := md[r], rd[r]
				var sumG, sumGN float64
				for i := range xr {
					n := (xr[i] - m) * rs
					g := gr[i] * w[i]
					sumG += float64(g)
					sumGN += float64(g * n)
					p.dw[i] += float64(gr[i] * n)
					p.db[i] += float64(gr[i])
				}
				meanG, meanGN := float32(sumG/float64(c)), float32(sumGN/float64(c))
				for i := range xr {
					n := (xr[i] - m) * rs
					dst[i] = rs * (gr[i]*w[i] - meanG - n*meanGN)
				}
			}
			parts[ch] = p
		}
	})
	dweight, dbias = Zeros(c), Zeros(c)
	for i := range c {
		var sw, sb float64
		for _, p := range parts {
			if p.dw != nil {
				sw += p.dw[i]
				sb += p.db[i]
			}
		}
		dweight.data[i], dbias.data[i] = float32(sw), float32(sb)
	}
	return dx, dweight, dbias
}
