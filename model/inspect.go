package model

import (
	"fmt"
	"math"
	"slices"

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

// TransformerInspection is what one forward pass of a Transformer shows about a source and a
// target, as Inspection is for a GPT: every attention weight, per layer, each (NH, Tq, Tk) (row q
// of head h says how much position q looked at each position k), and the next-token
// probabilities.
type TransformerInspection struct {
	Source, Target []int            // the ids that were run: the source, the target input (BOS first)
	Encoder        []*tensor.Tensor // (NH, Ts, Ts): the source over itself
	DecoderSelf    []*tensor.Tensor // (NH, Tt, Tt): the target over itself, causal (0 above the diagonal)
	Cross          []*tensor.Tensor // (NH, Tt, Ts): the target over the source
	// Next holds, for every target position t, the model's probability of each target id coming
	// at position t+1 (Tt rows of V).
	Next [][]float32
}

// TransformerAttention is TransformerInspection's former name.
//
// Deprecated: use TransformerInspection.
type TransformerAttention = TransformerInspection

// Inspect runs one source and one target input (BOS first, as Forward takes them) through a
// frozen view of m and returns every attention weight (the encoder's self-attention, the
// decoder's causal self-attention and its cross-attention) and the next-token probabilities at
// every target position. Like Frozen, it records no graph and uses no dropout; bad ids or
// lengths, and logits that are not finite, are errors.
func (m *Transformer) Inspect(src, tgt []int) (*TransformerInspection, error) {
	ts, tt, srcPad, tgtPad, err := m.checkBatch(src, tgt, 1)
	if err != nil {
		return nil, err
	}
	fm := m.Frozen()
	in := &TransformerInspection{Source: slices.Clone(src), Target: slices.Clone(tgt)}
	mem := fm.encode(src, 1, ts, srcPad, in)
	logits := fm.Generator.Forward(fm.decode(mem, srcPad, tgt, 1, tt, tgtPad, in)).Value.Contiguous().Data() // (1, Tt, V)
	if i := firstNonFinite(logits); i >= 0 {
		return nil, fmt.Errorf("model: logit %d is %v: the weights are not finite", i, logits[i])
	}
	v := m.Config.TgtVocabSize
	for i := range tt {
		in.Next = append(in.Next, softmax64(logits[i*v:(i+1)*v]))
	}
	return in, nil
}

// Attention is Inspect, under its former name.
//
// Deprecated: use Inspect.
func (m *Transformer) Attention(src, tgt []int) (*TransformerInspection, error) {
	return m.Inspect(src, tgt)
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
