package main

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Step 12's norms against the two formulas written out in float64.
func TestLlamaNorms(t *testing.T) {
	n := norms(normExample)
	mean, sq := 0.0, 0.0
	for _, x := range normExample {
		mean += float64(x) / 4
		sq += float64(x) * float64(x) / 4
	}
	variance := sq - mean*mean
	for i, x := range normExample {
		assert.InDelta(t, (float64(x)-mean)/math.Sqrt(variance+normEps), n.LN[i], 1e-5, "LayerNorm %d", i)
		assert.InDelta(t, float64(x)/math.Sqrt(sq+normEps), n.RMS[i], 1e-5, "RMSNorm %d", i)
	}
	assert.Equal(t, 5.0, n.Mean)
	assert.Equal(t, 30.0, n.MeanSq)
	lo, hi := ratioRange(n.RMS, n.X)
	assert.InDelta(t, lo, hi, 1e-6, "RMSNorm multiplies every number by the same factor")
	assert.Less(t, n.LN[0], float32(0), "LayerNorm makes the smallest positive number negative")
}

// nn.Rotary turns pair i of a vector at position p by p·10000^(−2i/HS) radians (the RoPE paper's
// formula, written out here), and the lesson's angles are those.
func TestLlamaRotaryByHand(t *testing.T) {
	r := rotaryExample(ropePositions)
	half := r.HS / 2
	for p := range ropePositions {
		for i := range half {
			a := float64(p) * math.Pow(10000, -2*float64(i)/float64(r.HS))
			x, y := float64(ropeQ[i]), float64(ropeQ[i+half])
			assert.InDelta(t, x*math.Cos(a)-y*math.Sin(a), r.RotQ[p][i], 1e-5, "position %d pair %d", p, i)
			assert.InDelta(t, x*math.Sin(a)+y*math.Cos(a), r.RotQ[p][i+half], 1e-5, "position %d pair %d", p, i)
		}
		want := math.Mod(float64(p)*180/math.Pi+180, 360) - 180
		assert.InDelta(t, want, r.Angles[p][0], 1e-3, "pair 1 turns 57.3° per position (position %d)", p)
	}
}

// The score of a rotated query and key depends on their distance alone, and with position
// vectors added it does not; distanceSpread sees the difference.
func TestLlamaRotaryDistanceOnly(t *testing.T) {
	r := rotaryExample(ropePositions)
	assert.Less(t, distanceSpread(r.Rotary), 1e-5)
	assert.Greater(t, distanceSpread(r.Added), 1.0)
	// the score at distance d is q·(k turned back by d): computed by hand
	half := r.HS / 2
	for d := range ropePositions {
		s := 0.0
		for i := range half {
			a := float64(d) * math.Pow(10000, -2*float64(i)/float64(r.HS))
			// rotating q by a and k by 0 gives the score of q at m = d and k at n = 0
			qx := float64(ropeQ[i])*math.Cos(a) - float64(ropeQ[i+half])*math.Sin(a)
			qy := float64(ropeQ[i])*math.Sin(a) + float64(ropeQ[i+half])*math.Cos(a)
			s += qx*float64(ropeK[i]) + qy*float64(ropeK[i+half])
		}
		assert.InDelta(t, s, r.Rotary[d][0], 1e-5, "distance %d", d)
	}
	toeplitz := [][]float64{{1, 2, 3}, {4, 1, 2}, {5, 4, 1}}
	assert.Zero(t, distanceSpread(toeplitz))
	toeplitz[2][1] = 4.5
	assert.InDelta(t, 0.5, distanceSpread(toeplitz), 1e-12)
}

// GELU and SiLU against their formulas, and the claims the text makes about them.
func TestLlamaGates(t *testing.T) {
	var xs []float64
	for i := range 161 {
		xs = append(xs, -4+0.05*float64(i))
	}
	gelu, silu := gateCurve(xs)
	low := 0.0
	for i, x := range xs {
		assert.InDelta(t, 0.5*x*(1+math.Erf(x/math.Sqrt2)), gelu[i], 1e-5, "GELU(%v)", x)
		assert.InDelta(t, x/(1+math.Exp(-x)), silu[i], 1e-5, "SiLU(%v)", x)
		low = math.Min(low, gelu[i])
	}
	assert.InDelta(t, -0.17, low, 0.005, "GELU is never below −0.17")
	assert.InDelta(t, 2/(1+math.Exp(-2))*-0.5, swiGLUUnit(2, -0.5), 1e-6)
}

// SmolLM2-135M's sizes, by arithmetic: the feed-forwards, the attention's projections, the KV
// cache and the groups of heads.
func TestLlamaSizes(t *testing.T) {
	attn, ff, err := blockParams(smolLM2)
	require.NoError(t, err)
	assert.Equal(t, 3*576*1536, ff, "gate, up and down")
	assert.Equal(t, 2*576*576+2*192*576, attn, "q and o 576×576, k and v 192×576")
	gpt2Like := smolLM2
	gpt2Like.Norm, gpt2Like.FeedForward, gpt2Like.Positions, gpt2Like.NKVHead, gpt2Like.FFHidden, gpt2Like.NoBias, gpt2Like.RopeTheta = "", "", "", 0, 0, false, 0
	_, ffGELU, err := blockParams(gpt2Like)
	require.NoError(t, err)
	assert.Equal(t, 2*576*2304+2304+576, ffGELU)

	assert.Equal(t, 46080, kvCacheBytes(smolLM2, 1))
	full := smolLM2
	full.NKVHead = 0
	assert.Equal(t, 3*kvCacheBytes(smolLM2, 8192), kvCacheBytes(full, 8192))
	assert.Equal(t, 360<<20, kvCacheBytes(smolLM2, 8192))

	groups, err := kvGroups(smolLM2)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 0, 0, 1, 1, 1, 2, 2, 2}, groups)
}

// The step prints the numbers the tests above check.
func TestLlamaStep(t *testing.T) {
	out, e := runTiny(t, "llama")
	for _, s := range []string{
		"LayerNorm(x)   [−1.34 −0.45  0.45  1.34]",
		"RMSNorm(x)     [ 0.37  0.73  1.10  1.46]",
		"LayerNorm turned 2 of the four positive numbers negative",
		"pair 1 (elements 0 and 4): 1.0000 radians = 57.296° per position",
		"distance 2:  (2, 0) −0.5144   (5, 3) −0.5144   (9, 7) −0.5144   (11, 9) −0.5144",
		"KV head 2 ← query heads 4, 5, 6",
		"= 46080 bytes (138240 with a KV head per query head)",
		"360 MiB instead of 1080 MiB: 3 times smaller",
		"has 2654208 parameters per layer",
	} {
		assert.Contains(t, out, s)
	}
	assert.NotRegexp(t, `[\s(\[]-[0-9]`, out, "real minus signs only")
	require.Len(t, e.pictures, 4)
	for _, p := range e.pictures {
		assert.True(t, strings.HasPrefix(p[strings.LastIndex(p, "/")+1:], "llama-"), p)
	}
}
