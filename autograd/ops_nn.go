package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/goformer/goformer/tensor"
)

// The fused operations a transformer needs. Each calls a tensor kernel whose backward twin
// sits beside it, and caches what that backward needs.

// Softmax over the last axis.
func Softmax(a *Var) *Var {
	return record("softmax", tensor.Softmax(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.SoftmaxBackward(out.Value, out.grad)) }
	})
}

// LogSoftmax over the last axis.
func LogSoftmax(a *Var) *Var {
	return record("log_softmax", tensor.LogSoftmax(a.Value), []*Var{a}, func(out *Var) func() {
		return func() { a.addGrad(tensor.LogSoftmaxBackward(out.Value, out.grad)) }
	})
}

// CrossEntropy returns the mean cross-entropy of logits (..., V) against integer targets (one
// per row of logits, row-major), skipping rows whose target is ignoreIndex. Fused and stable:
// it never forms log-probabilities, and its gradient is softmax − onehot.
func CrossEntropy(logits *Var, targets []int, ignoreIndex int) *Var {
	shape := logits.Value.Shape()
	v := shape[len(shape)-1]
	flat := logits.Value.Contiguous().Reshape(-1, v)
	loss, probs, count := tensor.CrossEntropy(flat, targets, ignoreIndex)
	return recordSaving("cross_entropy", tensor.Scalar(loss), []*Var{logits}, []*tensor.Tensor{probs}, func(out *Var) func() {
		return func() {
			g := tensor.CrossEntropyBackward(probs, targets, ignoreIndex, count, out.grad.Item())
			logits.addGrad(g.Reshape(shape...))
		}
	})
}

// LayerNorm normalises x (..., C) over its last axis with weight (C) and bias (C, or nil).
func LayerNorm(x, weight, bias *Var, eps float32) *Var {
	var b *tensor.Tensor
	inputs := []*Var{x, weight}
	if bias != nil {
		b = bias.Value
		inputs = append(inputs, bias)
	}
	y, mean, rstd := tensor.LayerNorm(x.Value, weight.Value, b, eps)
	return recordSaving("layer_norm", y, inputs, []*tensor.Tensor{mean, rstd}, func(out *Var) func() {
		return func() {
			dx, dw, db := tensor.LayerNormBackward(out.grad, x.Value, weight.Value, mean, rstd)
			x.addGrad(dx)
			weight.addGrad(dw)
			if bias != nil {
				bias.addGrad(db)
			}
		}
	})
}

// Dropout zeroes each element with probability p and scales the survivors by 1/(1−p), drawing
// the mask from rng; with p == 0 it is the identity. Whether to drop at all (training or
// evaluation) is the caller's decision: nn.Dropout makes it from its Mode.
func Dropout(a *Var, p float32, rng *rand.Rand) *Var {
	if p < 0 || p >= 1 {
		panic(fmt.Sprintf("autograd.Dropout: probability %v outside [0, 1) for input of shape %v", p, a.Value.Shape()))
	}
	if p == 0 {
		return a
	}
	mask := tensor.Zeros(a.Value.Shape()...)
	md := mask.Data()
	keep := 1 / (1 - p)
	for i := range md {
		if rng.Float32() >= p {
			md[i] = keep
		}
	}
	return recordSaving("dropout", tensor.Mul(a.Value, mask), []*Var{a}, []*tensor.Tensor{mask}, func(out *Var) func() {
		return func() { a.addGrad(tensor.Mul(out.grad, mask)) }
	})
}

// CausalMask returns scores (..., Tq, Tk) with every key position after its query position set
// to −Inf, so that softmax gives it zero weight. The queries are the last Tq of Tk positions
// (Tk > Tq when earlier keys come from a KV cache): query i may see keys 0..i+Tk−Tq. Masked
// entries get no gradient.
func CausalMask(scores *Var) *Var {
	return record("causal_mask", causalFill(scores.Value, float32(math.Inf(-1))), []*Var{scores}, func(out *Var) func() {
		return func() { scores.addGrad(causalFill(out.grad, 0)) }
	})
}

// causalFill returns a copy of t (..., Tq, Tk) with value where key j > query i + Tk − Tq.
func causalFill(t *tensor.Tensor, value float32) *tensor.Tensor {
	shape := t.Shape()
	n := len(shape)
	if n < 2 || shape[n-1] < shape[n-2] {
		panic(fmt.Sprintf("autograd.CausalMask: want scores (..., Tq, Tk) with Tk >= Tq, got %v", shape))
	}
	out := t.Clone()
	d := out.Data()
	tq, tk := shape[n-2], shape[n-1]
	past := tk - tq
	for base := 0; base < len(d); base += tq * tk {
		for i := range tq {
			row := d[base+i*tk : base+(i+1)*tk]
			for j := i + past + 1; j < tk; j++ {
				row[j] = value
			}
		}
	}
	return out
}

// Embedding looks up rows of table (V, C) by ids, giving (len(ids), C); its gradient is a
// scatter-add into the table's rows.
func Embedding(table *Var, ids []int) *Var {
	return record("embedding", tensor.Gather(table.Value, ids), []*Var{table}, func(out *Var) func() {
		return func() {
			table.ownGrad().ScatterAdd(ids, out.grad)
		}
	})
}
