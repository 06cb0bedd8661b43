package tensor

import "github.com/goformer/goformer/internal/gemm"

// attendOneQuery is Attention for one query position (Tq = 1): a decoding step, where each
// query head scores the Tk cached keys of its KV head and sums their values. Each head's work is
// two short products that gemm.QueryScores and gemm.WeightedRows run straight from the cache
// (batched matrix products cost more to set up than to run at one row), and the heads are
// shared among the workers. p (B, NH, 1, Tk) receives the weights, y (ry) the output.
func attendOneQuery(pl *plan, a Attn, p *Tensor, ry rows3) {
	tk, hs, g := pl.tk, pl.hs, pl.nh/pl.nkv
	parallelFor(pl.b*pl.nh, 4*tk*hs, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bi, h := r/pl.nh, r%pl.nh
			row := p.data[r*tk : (r+1)*tk]
			out := ry.data[ry.at(bi, h, hs, 0):][:hs]
			// a causal query at the last position sees every key: lim = Tk
			q := pl.q.data[pl.q.at(bi, h, hs, 0):][:hs]
			gemm.QueryScores(q, pl.k.data[pl.k.at(bi, h/g, hs, 0):], pl.k.ld, row)
			if !pl.normalise(a, r, row) {
				clear(out)
				continue
			}
			gemm.WeightedRows(row, pl.v.data[pl.v.at(bi, h/g, hs, 0):], pl.v.ld, out)
		}
	})
}
