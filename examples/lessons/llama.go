package main

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/goformer/goformer/examples/internal/plots"
)

// llamaLesson: the four changes between GPT-2 and the Llama family, each on small numbers and
// in a picture (the numbers come from llama_numbers.go).
func llamaLesson(ctx context.Context, e *env) error {
	e.para(`Step 10's GPT is GPT-2's design, from 2019. The open models people run today (Llama, Qwen,
		SmolLM, Mistral) are the same decoder, reading tokens left to right with causal self-attention
		and feed-forward layers in a stack of residual blocks, with four changes: RMSNorm instead of
		LayerNorm, rotary positions instead of a table of position vectors, a gated feed-forward
		(SwiGLU) instead of the GELU MLP, and fewer key/value heads than query heads. In goformer both
		are configurations of one decoder: model.Config's Norm, Positions, FeedForward and NKVHead.
		Here is each change on small numbers, computed with the library's own layers.`)
	e.printf("Code: model/config_decoder.go (the choices), nn/rmsnorm.go, nn/rotary.go, nn/swiglu.go, nn/attention.go (grouped KV heads), model/hf_llama.go (loading such a model).\n\n")

	if err := rmsNormPart(e); err != nil {
		return err
	}
	if err := rotaryPart(e); err != nil {
		return err
	}
	if err := swiGLUPart(e); err != nil {
		return err
	}
	return groupedPart(e)
}

// normExample is the vector step 12 normalises.
var normExample = []float32{2, 4, 6, 8}

func rmsNormPart(e *env) error {
	e.printf("1. RMSNorm instead of LayerNorm\n\n")
	e.para(`LayerNorm (step 7) takes away a vector's mean and divides by its standard deviation.
		RMSNorm only divides, by the root of the mean of the squares: no centring, and no bias added
		after. On one vector:`)
	n := norms(normExample)
	e.printf("  %-14s %s   mean %s, variance %s, mean of squares %s\n", "x", vector(n.X), num(n.Mean), num(n.Var), num(n.MeanSq))
	lnMean, lnVar := meanVar(n.LN)
	e.printf("  %-14s %s   = (x − %s) / √%s: mean %s, variance %s\n", "LayerNorm(x)", vector(n.LN), num(n.Mean), num(n.Var), num(lnMean), num(lnVar))
	_, rmsSq := meanSq(n.RMS)
	lo, hi := ratioRange(n.RMS, n.X)
	times := fmt.Sprintf("%.3f", lo)
	if hi-lo > 1e-6 { // never, for a norm without a shift: the test checks it
		times += fmt.Sprintf(" to %.3f", hi)
	}
	e.printf("  %-14s %s   = x / √%s: mean of squares %s, each number × %s\n\n", "RMSNorm(x)", vector(n.RMS), num(n.MeanSq), num(rmsSq), times)
	flipped := 0
	for i := range n.X {
		if (n.LN[i] < 0) != (n.X[i] < 0) {
			flipped++
		}
	}
	e.para(fmt.Sprintf(`LayerNorm turned %d of the four positive numbers negative: it moved the vector. RMSNorm
		kept every sign and every ratio (each number was multiplied by the same %.3f): it only changed
		the vector's length. Keeping the sizes of the numbers in check is what a norm is for in a deep
		stack; the centring turned out not to be needed, and skipping it saves a pass over the numbers.`, flipped, lo))
	return nil
}

func meanVar(v []float32) (mean, variance float64) {
	for _, x := range v {
		mean += float64(x) / float64(len(v))
	}
	for _, x := range v {
		variance += (float64(x) - mean) * (float64(x) - mean) / float64(len(v))
	}
	return mean, variance
}

func meanSq(v []float32) (rms, sq float64) {
	for _, x := range v {
		sq += float64(x) * float64(x) / float64(len(v))
	}
	return math.Sqrt(sq), sq
}

// ratioRange returns the smallest and largest of a[i]/b[i].
func ratioRange(a, b []float32) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range a {
		r := float64(a[i]) / float64(b[i])
		lo, hi = math.Min(lo, r), math.Max(hi, r)
	}
	return lo, hi
}

// ropePositions is how many positions step 12's rotary example runs.
const ropePositions = 12

func rotaryPart(e *env) error {
	e.printf("2. Rotary positions instead of position vectors\n\n")
	e.para(`GPT-2 adds a position vector to each token's vector before the first layer (step 9). The
		Llama family adds nothing. Instead, inside every attention layer, it turns each query and key
		by an angle that grows with the token's position. A head's vector of HS numbers is cut into
		HS/2 pairs (element i with element i + HS/2), and each pair is a point in a plane that turns
		by its own step per position: the first pair fast, the last very slowly. With HS = 8 and the
		base θ = 10000, pair i turns by θ^(−2i/HS) radians per position:`)
	r := rotaryExample(ropePositions)
	for i, f := range r.InvFreq {
		e.printf("  pair %d (elements %d and %d): %.4f radians = %.3f° per position\n", i+1, i, i+r.HS/2, f, f*180/math.Pi)
	}
	e.printf("\nThe query q = %s, rotated by nn.Rotary at positions 0 to 6: how far each pair has turned\n", vector(r.Q))
	e.printf("  %-9s", "position")
	for i := range r.HS / 2 {
		e.printf("  pair %d", i+1)
	}
	e.printf("   q at that position\n")
	for p := range 7 {
		e.printf("  %-9d", p)
		for _, a := range r.Angles[p] {
			e.printf(" %7s", degrees(a))
		}
		e.printf("   %s\n", vector(r.RotQ[p]))
	}
	e.printf("(an angle past 180° is written as the same angle the other way round: %s is %s)\n\n", degrees(r.InvFreq[0]*4*180/math.Pi), degrees(r.Angles[4][0]))
	if path := e.picture("llama-rotary.png"); path != "" {
		var pts []plots.Point
		for p := range 7 {
			pts = append(pts, plots.Point{X: float64(r.RotQ[p][0]), Y: float64(r.RotQ[p][r.HS/2]), Label: fmt.Sprintf("position %d", p)})
		}
		if err := plots.Scatter(path, plots.Labels{
			Title: fmt.Sprintf("Rotary positions: pair 1 of the query (elements 0 and %d) turns %.1f° per position", r.HS/2, r.InvFreq[0]*180/math.Pi),
			X:     "element 0", Y: fmt.Sprintf("element %d", r.HS/2),
		}, pts); err != nil {
			return err
		}
		e.drew(path, "the same pair of the same query at positions 0 to 6: one point per position, on a circle")
		e.printf("\n")
	}

	e.para(`Turning both the query and the key is what makes this work: the score q·k of a query at
		position m and a key at position n only sees the angle between them, which is the difference
		of their two turns, so it depends on the distance m − n and not on where the two tokens are.
		The same two vectors, at several places (scores from nn.Rotary's rotations):`)
	show := func(m, n int) string { return fmt.Sprintf("(%d, %d) %s", m, n, signed4(r.Rotary[m][n])) }
	e.printf("  distance 2:  %s\n", strings.Join([]string{show(2, 0), show(5, 3), show(9, 7), show(11, 9)}, "   "))
	e.printf("  distance 5:  %s\n", strings.Join([]string{show(5, 0), show(8, 3), show(11, 6)}, "   "))
	e.printf("  distance 0:  %s\n", strings.Join([]string{show(0, 0), show(4, 4), show(10, 10)}, "   "))
	rot, add := distanceSpread(r.Rotary), distanceSpread(r.Added)
	e.printf("  the largest difference between two scores at the same distance, over every pair of positions 0 to %d:\n", ropePositions-1)
	e.printf("    rotary positions:                                   %.1e (0 but for float32 rounding)\n", rot)
	e.printf("    position vectors added (sinusoidal, GPT-2's way):   %.3f\n\n", add)
	e.para(`So a rotary model learns "the word two before me" once, for every place in the text, and
		nothing needs a table as long as the longest text: positions are angles, which every length
		has. The picture shows all the scores; with rotary positions every diagonal (one distance)
		holds one colour.`)
	if path := e.picture("llama-rotary-scores.png"); path != "" {
		labels := make([]string, ropePositions)
		for i := range labels {
			labels[i] = fmt.Sprint(i)
		}
		grids := []plots.Grid{
			{Title: "rotary: q and k turned by position", X: "key position n", Y: "query position m", Rows: labels, Cols: labels, Values: r.Rotary, Diverging: true},
			{Title: "added: q + P(m), k + P(n)", X: "key position n", Y: "query position m", Rows: labels, Cols: labels, Values: r.Added, Diverging: true},
		}
		if err := plots.HeatMaps(path, plots.Panels{
			Title:    "The score q·k of the same two vectors at every pair of positions",
			Subtitle: "rotary: each diagonal (one distance m − n) is one colour; added positions: it is not",
			Cols:     2, Side: 7,
		}, grids); err != nil {
			return err
		}
		e.drew(path, "the scores above, for every query position (down) and key position (across)")
		e.printf("\n")
	}
	return nil
}

// degrees writes an angle with one decimal and a real minus sign.
func degrees(a float64) string {
	return strings.Replace(fmt.Sprintf("%.1f°", a), "-", "−", 1)
}

// signed4 writes x with 4 decimals and a real minus sign.
func signed4(x float64) string {
	s := fmt.Sprintf("%.4f", x)
	if s == "-0.0000" {
		return "0.0000"
	}
	return strings.Replace(s, "-", "−", 1)
}

func swiGLUPart(e *env) error {
	e.printf("3. SwiGLU instead of the GELU MLP\n\n")
	e.para(`GPT-2's MLP widens each token's vector 4 times, bends every number with GELU and projects
		back. SwiGLU makes two projections of the same width, gate and up, and multiplies them:
		silu(gate) × up, then projects back (down). SiLU, x·σ(x), bends almost as GELU does; the
		change is the multiplication. A GELU unit's output is a fixed curve of one number, never
		below −0.17; a SwiGLU unit's is one number (the gate) deciding how much of another (up)
		passes, of either sign and any size.`)
	xs := []float64{-3, -1, 0, 1, 3}
	gelu, silu := gateCurve(xs)
	e.printf("  %-12s", "x")
	for _, x := range xs {
		e.printf(" %6s", num(x))
	}
	e.printf("\n  %-12s", "GELU(x)")
	for _, v := range gelu {
		e.printf(" %6s", num(v))
	}
	e.printf("\n  %-12s", "SiLU(x)")
	for _, v := range silu {
		e.printf(" %6s", num(v))
	}
	e.printf("\n\n  one SwiGLU unit: gate 2, up −0.5 → silu(2) × (−0.5) = %s;  gate 2, up 3 → %s;  gate −3, up 3 → %s\n\n",
		num(swiGLUUnit(2, -0.5)), num(swiGLUUnit(2, 3)), num(swiGLUUnit(-3, 3)))

	gpt2Like := smolLM2
	gpt2Like.Norm, gpt2Like.FeedForward, gpt2Like.Positions, gpt2Like.NKVHead, gpt2Like.FFHidden, gpt2Like.NoBias, gpt2Like.RopeTheta = "", "", "", 0, 0, false, 0
	_, ffSwi, err := blockParams(smolLM2)
	if err != nil {
		return err
	}
	_, ffGELU, err := blockParams(gpt2Like)
	if err != nil {
		return err
	}
	e.para(fmt.Sprintf(`Three matrices instead of two would cost more, so the hidden width is 2/3 of 4C:
		SmolLM2-135M is %d wide with a SwiGLU %d wide (8/3 × %d). Its feed-forward has %d parameters
		per layer; GPT-2's MLP at the same width (%d → %d → %d) has %d, the same but for its %d
		biases (model.New counts both).`, smolLM2.NEmbd, smolLM2.FFHidden, smolLM2.NEmbd, ffSwi, smolLM2.NEmbd, 4*smolLM2.NEmbd, smolLM2.NEmbd, ffGELU, ffGELU-ffSwi))
	if path := e.picture("llama-swiglu.png"); path != "" {
		var x []float64
		for i := range 81 {
			x = append(x, -4+0.1*float64(i))
		}
		g, s := gateCurve(x)
		relu := make([]float64, len(x))
		for i, v := range x {
			relu[i] = math.Max(0, v)
		}
		if err := plots.Lines(path, plots.Labels{Title: "GELU (GPT-2's MLP) and SiLU (SwiGLU's gate): almost the same bend", X: "x", Y: "output", LegendLeft: true},
			plots.Series{Name: "GELU(x)", X: x, Y: g}, plots.Series{Name: "SiLU(x) = x·σ(x)", X: x, Y: s}, plots.Series{Name: "ReLU(x) (step 1)", X: x, Y: relu}); err != nil {
			return err
		}
		e.drew(path, "the two curves of the table above, from −4 to 4, with step 1's ReLU")
		e.printf("\n")
	}
	return nil
}

// groupColors are the colours of the KV groups in step 12's picture (the explorer's).
var groupColors = []color.Color{
	color.RGBA{0xc6, 0xd6, 0xea, 0xff}, color.RGBA{0xfb, 0xd9, 0xb6, 0xff}, color.RGBA{0xc8, 0xe6, 0xc3, 0xff},
	color.RGBA{0xf5, 0xc6, 0xc7, 0xff}, color.RGBA{0xe3, 0xd3, 0xe0, 0xff}, color.RGBA{0xcf, 0xe8, 0xe6, 0xff},
}

func groupedPart(e *env) error {
	e.printf("4. Grouped key/value heads\n\n")
	c := smolLM2
	hs := c.NEmbd / c.NHead
	e.para(fmt.Sprintf(`In GPT-2 every head has its own queries, keys and values. In SmolLM2-135M (%d layers, %d wide)
		%d query heads share %d key/value heads: each group of %d query heads reads the same keys and
		values, with queries of its own, so the heads of a group can still look at different tokens. The
		key and value projections shrink from %d×%d to %d×%d, and so does what generation keeps.`,
		c.NLayer, c.NEmbd, c.NHead, c.NKVHead, c.NHead/c.NKVHead, c.NEmbd, c.NEmbd, c.NKVHead*hs, c.NEmbd))
	groups, err := kvGroups(c)
	if err != nil {
		return err
	}
	e.printf("Which KV head each query head reads (model.Inspection.KVHead, from a small model with the same heads):\n")
	for g := range c.NKVHead {
		var qs []string
		for h, kv := range groups {
			if kv == g {
				qs = append(qs, fmt.Sprint(h+1))
			}
		}
		e.printf("  KV head %d ← query heads %s\n", g+1, strings.Join(qs, ", "))
	}
	full := c
	full.NKVHead = 0
	perTok, perTokFull := kvCacheBytes(c, 1), kvCacheBytes(full, 1)
	ctxBytes, ctxFull := kvCacheBytes(c, c.BlockSize), kvCacheBytes(full, c.BlockSize)
	e.printf("\nThe KV cache (step 10's generation keeps every earlier token's keys and values), in float32:\n")
	e.printf("  per token: 2 (key, value) × %d layers × %d KV heads × %d numbers × 4 bytes = %d bytes (%d with a KV head per query head)\n",
		c.NLayer, c.NKVHead, hs, perTok, perTokFull)
	e.printf("  for a full context of %d tokens: %.0f MiB instead of %.0f MiB: %d times smaller\n\n",
		c.BlockSize, float64(ctxBytes)/(1<<20), float64(ctxFull)/(1<<20), ctxFull/ctxBytes)
	e.para(`Generating a token reads the whole cache, so a smaller cache is also a faster one on long
		texts, and more texts fit in memory at once. To see grouped heads in a real model, give a
		SmolLM2 or Qwen directory to the explorer (go run ./examples/explore -model DIR): its
		attention thumbnails are grouped by the KV head they share.`)
	if path := e.picture("llama-kv-groups.png"); path != "" {
		d := plots.Diagram{Title: fmt.Sprintf("SmolLM2-135M: %d query heads share %d key/value heads (in each of its %d layers)", c.NHead, c.NKVHead, c.NLayer),
			W: 2 * float64(c.NHead), H: 8}
		qx := func(h int) float64 { return 1 + 2*float64(h) }
		for g := range c.NKVHead {
			var xs []float64
			for h, kv := range groups {
				if kv == g {
					xs = append(xs, qx(h))
				}
			}
			centre := (xs[0] + xs[len(xs)-1]) / 2
			fill := groupColors[g%len(groupColors)]
			d.Boxes = append(d.Boxes, plots.Box{X: centre, Y: 1.2, W: 3.6, H: 1.4, Text: fmt.Sprintf("KV head %d\nkeys, values", g+1), Fill: fill})
			for _, x := range xs {
				d.Arrows = append(d.Arrows, plots.Arrow{From: [2]float64{centre, 1.9}, To: [2]float64{x, 6.1}})
			}
		}
		for h, kv := range groups {
			d.Boxes = append(d.Boxes, plots.Box{X: qx(h), Y: 6.8, W: 1.6, H: 1.4, Text: fmt.Sprintf("query\nhead %d", h+1), Fill: groupColors[kv%len(groupColors)]})
		}
		if err := plots.DrawDiagram(path, d); err != nil {
			return err
		}
		e.drew(path, "which query heads read which key/value head, as listed above")
	}
	return nil
}
