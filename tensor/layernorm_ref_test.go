package tensor

import (
	"math"

	"github.com/goformer/goformer/internal/vecmath"
)

// layerNormRef and layerNormBackwardRef are LayerNorm and LayerNormBackward as they were before
// their rows moved onto vecmath's fused kernels (commit ee9c523): scalar loops for the centring,
// the normalised input and the input gradient, and the weight and bias sums chunked by Workers().
// They are the oracle the fast versions must match bit for bit. One edit: the float32 conversion
// in the input gradient, which rounds n̂·mean(g·n̂) before the subtraction as amd64 (GOAMD64=v1)
// always did; without it Go may fuse the two where it fuses multiply-adds (arm64, GOAMD64=v3).

func layerNormRef(x, weight, bias *Tensor, eps float32) (y, mean, rstd *Tensor) {
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
			mf := float32(vecmath.Sum(row) / float64(c))
			for i, v := range row {
				dst[i] = v - mf
			}
			rf := float32(1 / math.Sqrt(vecmath.Dot(dst, dst)/float64(c)+float64(eps)))
			vecmath.Scale(dst, dst, rf)
			vecmath.Mul(dst, dst, w)
			if b != nil {
				vecmath.Add(dst, dst, b)
			}
			mean.data[r], rstd.data[r] = mf, rf
		}
	})
	return y, mean, rstd
}

func layerNormBackwardRef(dy, x, weight, mean, rstd *Tensor) (dx, dweight, dbias *Tensor) {
	mustSameShape("LayerNormBackward", dy, x)
	xd, rows, c := lastAxisRows("LayerNormBackward", x)
	gd := dy.Contiguous().Data()
	w := weight.Contiguous().Data()
	md, rd := mean.Contiguous().Data(), rstd.Contiguous().Data()
	dx = uninit(x.shape...)
	// dweight and dbias sum over rows. Each chunk of rows sums in float32 over blocks of
	// lnBlock rows (short enough that float32 loses nothing that matters) and adds the block
	// sums into float64; the chunks' totals are added in chunk order at the end, so the result
	// does not depend on scheduling.
	const lnBlock = 32
	nChunks := max(1, min(Workers(), rows))
	chunk := (rows + nChunks - 1) / nChunks
	dw64, db64 := make([][]float64, nChunks), make([][]float64, nChunks)
	parallelFor(nChunks, rows*c*8/nChunks+1, func(clo, chi int) {
		n, gw, prod := make([]float32, c), make([]float32, c), make([]float32, c)
		bw, bb := make([]float32, c), make([]float32, c)
		for ch := clo; ch < chi; ch++ {
			sw, sb := make([]float64, c), make([]float64, c)
			flush := func() {
				for i := range c {
					sw[i] += float64(bw[i])
					sb[i] += float64(bb[i])
				}
				clear(bw)
				clear(bb)
			}
			r0, r1 := ch*chunk, min((ch+1)*chunk, rows)
			for r := r0; r < r1; r++ {
				xr, gr, dst := xd[r*c:(r+1)*c], gd[r*c:(r+1)*c], dx.data[r*c:(r+1)*c]
				m, rs := md[r], rd[r]
				for i, v := range xr {
					n[i] = (v - m) * rs
				}
				vecmath.Mul(gw, gr, w)
				meanG := float32(vecmath.Sum(gw) / float64(c))
				meanGN := float32(vecmath.Dot(gw, n) / float64(c))
				for i := range dst {
					dst[i] = rs * (gw[i] - meanG - float32(n[i]*meanGN))
				}
				vecmath.Mul(prod, gr, n)
				vecmath.Add(bw, bw, prod)
				vecmath.Add(bb, bb, gr)
				if (r-r0+1)%lnBlock == 0 {
					flush()
				}
			}
			flush()
			dw64[ch], db64[ch] = sw, sb
		}
	})
	dweight, dbias = Zeros(c), Zeros(c)
	for i := range c {
		var sw, sb float64
		for ch := range nChunks {
			if dw64[ch] != nil {
				sw += dw64[ch][i]
				sb += db64[ch][i]
			}
		}
		dweight.data[i], dbias.data[i] = float32(sw), float32(sb)
	}
	return dx, dweight, dbias
}
