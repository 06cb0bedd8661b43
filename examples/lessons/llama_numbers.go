package main

// The numbers of step 12 (after GPT-2: what changed), each computed with the library's own
// layers, apart from the text that prints them and the pictures that draw them, so that the
// tests check the very numbers the reader sees.

import (
	"math"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// normNumbers are LayerNorm and RMSNorm of one vector x, both with weight 1 (and LayerNorm's
// bias 0), through autograd.LayerNorm and autograd.RMSNorm.
type normNumbers struct {
	X, LN, RMS        []float32
	Mean, Var, MeanSq float64 // of x
}

const normEps = 1e-5

func norms(x []float32) normNumbers {
	c := len(x)
	in := autograd.Const(tensor.FromSlice(x, 1, c))
	ones := autograd.Const(tensor.Full(1, c))
	zeros := autograd.Const(tensor.Zeros(c))
	n := normNumbers{
		X:   x,
		LN:  autograd.LayerNorm(in, ones, zeros, normEps).Value.Contiguous().Data(),
		RMS: autograd.RMSNorm(in, ones, normEps).Value.Contiguous().Data(),
	}
	for _, v := range x {
		n.Mean += float64(v) / float64(c)
		n.MeanSq += float64(v) * float64(v) / float64(c)
	}
	n.Var = n.MeanSq - n.Mean*n.Mean
	return n
}

// rotaryNumbers show rotary positions on one query and one key vector (HS wide), through
// nn.Rotary: the query rotated at each position, the angle each of its pairs has turned by, and
// the score q·k between the query at every position and the key at every position, beside the
// same score with GPT-2's way instead (a position vector added to each token's vector first;
// here the sinusoidal table, which needs no training).
type rotaryNumbers struct {
	HS      int
	InvFreq []float64   // radians per position, for each pair
	Q, K    []float32   // the two vectors, at position 0
	RotQ    [][]float32 // [p]: q rotated to position p
	Angles  [][]float64 // [p][pair]: how far pair i of q has turned at position p, in degrees in (−180, 180]
	Rotary  [][]float64 // [m][n]: (q at m)·(k at n), both rotated
	Added   [][]float64 // [m][n]: (q + P_m)·(k + P_n), positions added instead
}

// The vectors of the rotary example: pair 0 (elements 0 and HS/2) of q is (2, 0), so its angle
// is the angle it has turned by.
var (
	ropeQ = []float32{2, 1, -0.6, 1.6, 0, 0.4, 0.8, -1}
	ropeK = []float32{1.2, -0.8, 1.8, 0.6, 1.4, 0.2, -0.4, 1}
)

func rotaryExample(positions int) rotaryNumbers {
	hs := len(ropeQ)
	r := nn.NewRotary(hs, positions, 10000, nn.RopeScaling{})
	rotate := func(v []float32) [][]float32 {
		x := make([]float32, 0, positions*hs)
		pos := make([]int, positions)
		for p := range positions {
			x = append(x, v...)
			pos[p] = p
		}
		out := r.Rotate(autograd.Const(tensor.FromSlice(x, 1, positions, 1, hs)), pos).Value.Contiguous().Data() // (1, T, 1, HS)
		rows := make([][]float32, positions)
		for p := range rows {
			rows[p] = out[p*hs : (p+1)*hs]
		}
		return rows
	}
	n := rotaryNumbers{HS: hs, InvFreq: nn.InvFreq(hs, 10000, nn.RopeScaling{}), Q: ropeQ, K: ropeK, RotQ: rotate(ropeQ)}
	rotK := rotate(ropeK)
	half := hs / 2
	for p := range positions {
		var a []float64
		for i := range half {
			turned := math.Atan2(float64(n.RotQ[p][i+half]), float64(n.RotQ[p][i])) - math.Atan2(float64(ropeQ[i+half]), float64(ropeQ[i]))
			a = append(a, wrapDegrees(turned*180/math.Pi))
		}
		n.Angles = append(n.Angles, a)
	}
	table := nn.SinusoidalTable(positions, hs)
	for m := range positions {
		rot, add := make([]float64, positions), make([]float64, positions)
		for k := range positions {
			for d := range hs {
				rot[k] += float64(n.RotQ[m][d]) * float64(rotK[k][d])
				add[k] += float64(ropeQ[d]+table.At(m, d)) * float64(ropeK[d]+table.At(k, d))
			}
		}
		n.Rotary, n.Added = append(n.Rotary, rot), append(n.Added, add)
	}
	return n
}

// wrapDegrees brings an angle into (−180, 180].
func wrapDegrees(a float64) float64 {
	a = math.Mod(a, 360)
	if a > 180 {
		a -= 360
	} else if a <= -180 {
		a += 360
	}
	return a
}

// distanceSpread returns, over every pair of positions (m, n), the largest difference between
// scores[m][n] and the score at the same distance from position 0 (scores[m−n][0], or
// scores[0][n−m]): 0 when the score depends on the distance alone.
func distanceSpread(scores [][]float64) float64 {
	worst := 0.0
	for m := range scores {
		for n := range scores[m] {
			ref := scores[max(0, m-n)][max(0, n-m)]
			worst = math.Max(worst, math.Abs(scores[m][n]-ref))
		}
	}
	return worst
}

// gateCurve returns GELU(x) (GPT-2's MLP) and SiLU(x) = x·σ(x) (the gate of SwiGLU) at xs,
// through autograd.GELU and autograd.SiLU.
func gateCurve(xs []float64) (gelu, silu []float64) {
	x := make([]float32, len(xs))
	for i, v := range xs {
		x[i] = float32(v)
	}
	in := autograd.Const(tensor.FromSlice(x, len(x)))
	for _, v := range autograd.GELU(in).Value.Data() {
		gelu = append(gelu, float64(v))
	}
	for _, v := range autograd.SiLU(in).Value.Data() {
		silu = append(silu, float64(v))
	}
	return gelu, silu
}

// swiGLUUnit is one hidden unit of SwiGLU: silu(gate)·up, through autograd.SiLUMul.
func swiGLUUnit(gate, up float32) float32 {
	g := autograd.Const(tensor.FromSlice([]float32{gate}, 1))
	u := autograd.Const(tensor.FromSlice([]float32{up}, 1))
	return autograd.SiLUMul(g, u).Value.Data()[0]
}

// smolLM2 is HuggingFaceTB/SmolLM2-135M's config.json as a Config: 30 layers 576 wide, 9
// query heads sharing 3 key/value heads of 64, a SwiGLU 1536 wide, a context of 8192 tokens.
var smolLM2 = model.Config{
	VocabSize: 49152, BlockSize: 8192, NLayer: 30, NHead: 9, NKVHead: 3, NEmbd: 576, FFHidden: 1536,
	NoBias: true, Norm: model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU, Positions: model.PositionsRotary,
	RopeTheta: 100000,
}

// kvCacheBytes is the size of the KV cache of a model of config c for tokens positions in
// float32: every layer keeps a key and a value vector (HS wide) per KV head per position.
func kvCacheBytes(c model.Config, tokens int) int {
	kv := c.NKVHead
	if kv == 0 {
		kv = c.NHead
	}
	hs := c.HeadDim
	if hs == 0 {
		hs = c.NEmbd / c.NHead
	}
	return 2 * c.NLayer * kv * hs * 4 * tokens
}

// blockParams builds one block of a model of config c (vocabulary 8: the embedding aside) and
// counts the parameters of its attention and its feed-forward, by their Hugging Face names.
func blockParams(c model.Config) (attn, ff int, err error) {
	c.NLayer, c.VocabSize, c.BlockSize = 1, 8, 16
	m, err := model.New(c, 1)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range m.Parameters() {
		switch name := p.Name(); {
		case strings.Contains(name, ".mlp."):
			ff += p.Value.Size()
		case strings.Contains(name, ".attn.") || strings.Contains(name, ".self_attn."):
			attn += p.Value.Size()
		}
	}
	return attn, ff, nil
}

// kvGroups runs a few tokens through a small model with c's heads and returns which KV head
// each query head read (model.Inspection.KVHead).
func kvGroups(c model.Config) ([]int, error) {
	small := model.Config{VocabSize: 8, BlockSize: 8, NLayer: 1, NHead: c.NHead, NKVHead: c.NKVHead, NEmbd: 2 * c.NHead, HeadDim: 2,
		NoBias: true, Norm: model.NormRMSNorm, FeedForward: model.FeedForwardSwiGLU, FFHidden: 8, Positions: model.PositionsRotary}
	m, err := model.New(small, 1)
	if err != nil {
		return nil, err
	}
	in, err := m.Inspect([]int{1, 2, 3})
	if err != nil {
		return nil, err
	}
	return in.KVHead, nil
}
