package tensor

import (
	"sync"

	"github.com/goformer/goformer/internal/gemm"
)

// AttentionOutput is Attention's output y alone, for inference, where nothing reads the weights
// again. A decoding step's weights (B, NH, 1, Tk) have a new length every step, so storage for
// them could never be recycled: each step would take fresh memory, and the free lists would fill
// with one size per position. Here one query's scores live in a scratch row per worker instead.
func AttentionOutput(q, k, v *Tensor, a Attn) *Tensor {
	if len(q.shape) != 3 || q.shape[1] != 1 { // several queries (a prefill): Attention's path
		y, p := Attention(q, k, v, a)
		release(p)
		return y
	}
	pl := newPlan("AttentionOutput", q, k, v, a, false)
	y := uninit(pl.b, 1, pl.nh*pl.hs)
	if y.Size() == 0 {
		return y
	}
	attendOneQuery(pl, a, nil, asRows3(y))
	return y
}

// scoreRows recycles the scratch rows of AttentionOutput's one-query path.
var scoreRows = sync.Pool{New: func() any { return new([]float32) }}

// attendOneQuery is Attention for one query position (Tq = 1): a decoding step, where each
// query head scores the Tk cached keys of its KV head and sums their values. Each head's work is
// two short products that gemm.QueryScores and gemm.WeightedRows run straight from the cache
// (batched matrix products cost more to set up than to run at one row), and the heads are
// shared among the workers. p (B, NH, 1, Tk) receives the weights, or with p nil a scratch row
// holds them; y (ry) receives the output.
func attendOneQuery(pl *plan, a Attn, p *Tensor, ry rows3) {
	tk, hs, g := pl.tk, pl.hs, pl.nh/pl.nkv
	// shared by KV head, as AttendRows does: a KV head's g query heads on one worker
	parallelFor(pl.b*pl.nkv, 4*g*tk*hs, func(glo, ghi int) {
		lo, hi := glo*g, ghi*g // query heads, row-major over (B, NH)
		var scratch *[]float32
		if p == nil {
			scratch = scoreRows.Get().(*[]float32)
			defer scoreRows.Put(scratch)
			if cap(*scratch) < tk {
				*scratch = make([]float32, tk+tk/2)
			}
		}
		for r := lo; r < hi; r++ {
			bi, h := r/pl.nh, r%pl.nh
			var row []float32
			if p != nil {
				row = p.data[r*tk : (r+1)*tk]
			} else {
				row = (*scratch)[:tk]
			}
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
