package model

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/tensor"
)

// Inspection is what one forward pass of a GPT shows about a sequence: for lessons, explainers
// and the explorer page. It is plain data, free to keep, print or encode as JSON.
type Inspection struct {
	// Tokens are the ids that were run, in order (T of them).
	Tokens []int
	// Attention[layer][head][i][j] is how much position i attends to position j (j ≤ i; the
	// weights of row i sum to 1; entries with j > i are 0).
	Attention [][][][]float32
	// KVHead[h] is the key/value head that query head h reads. With grouped-query attention
	// (Config.NKVHead < NHead) the query heads of one KV head form a group that shares its keys
	// and values; without, KVHead[h] is h.
	KVHead []int
	// Next holds, for every position i, the model's probability of each vocabulary id coming at
	// position i+1 (T rows of V). Next[T-1] is the prediction for the token after the sequence.
	Next [][]float32
}

// Inspect runs ids (one sequence, at most BlockSize long) through a frozen view of m and returns
// the attention weights of every layer and head and the next-token probabilities at every
// position. Like Frozen, it records no graph and uses no dropout. Bad ids or lengths are errors.
func (m *GPT) Inspect(ids []int) (*Inspection, error) {
	t := len(ids)
	if err := m.checkInput(ids, 1, t, 0); err != nil {
		return nil, err
	}
	f := m.Frozen()
	in := &Inspection{Tokens: append([]int(nil), ids...)}
	group := m.Config.NHead / m.Config.nKVHead()
	for h := range m.Config.NHead {
		in.KVHead = append(in.KVHead, h/group)
	}
	x := f.trunk(ids, 1, t, nil, func(_ int, w *tensor.Tensor) {
		p := w.Contiguous().Data() // (1, NH, T, T)
		heads := make([][][]float32, w.Dim(1))
		for h := range heads {
			heads[h] = make([][]float32, t)
			for i := range t {
				row := p[(h*t+i)*t : (h*t+i+1)*t]
				heads[h][i] = append([]float32(nil), row...)
			}
		}
		in.Attention = append(in.Attention, heads)
	})
	x = f.LnF.Forward(x)
	logits := f.logits(x).Value.Contiguous().Data() // (1, T, V)
	v := m.Config.VocabSize
	for i := range t {
		in.Next = append(in.Next, softmax64(logits[i*v:(i+1)*v]))
	}
	if i := firstNonFinite(logits); i >= 0 {
		return nil, fmt.Errorf("model: logit %d is %v: the weights are not finite", i, logits[i])
	}
	return in, nil
}

// softmax64 returns softmax(x), computed in float64 and rounded.
func softmax64(x []float32) []float32 {
	top := math.Inf(-1)
	for _, v := range x {
		top = max(top, float64(v))
	}
	sum := 0.0
	e := make([]float64, len(x))
	for i, v := range x {
		e[i] = math.Exp(float64(v) - top)
		sum += e[i]
	}
	out := make([]float32, len(x))
	for i := range e {
		out[i] = float32(e[i] / sum)
	}
	return out
}
