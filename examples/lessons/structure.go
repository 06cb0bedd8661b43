package main

// The structure pictures: step 1's network, the GPT of step 10 and the encoder–decoder of
// step 11, each drawn from the model itself (its configuration and its parameters' shapes), so
// that the picture is of the very model the step trains.

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/model"
)

// Colours of the structure pictures: what holds weights, what only computes.
var (
	weighty = color.RGBA{204, 224, 245, 255} // has learnt weights
	plain   = color.RGBA{236, 239, 244, 255} // computes, learns nothing
	ends    = color.RGBA{255, 236, 200, 255} // what goes in, what comes out
)

// drawNetwork draws step 1's network: its neurons as circles and each weight as a line, blue
// when positive and red when negative, thicker the larger it is.
func drawNetwork(path string, n *leafNet, title string) error {
	d := plots.Diagram{Title: title, W: 10, H: 5.4}
	in := []string{"red", "green", "blue", "volume"}
	hid := []string{"h1", "h2", "h3"}
	out := []string{"leaf", "flower"}
	col := func(names []string, x float64) [][2]float64 {
		pts := make([][2]float64, len(names))
		for i := range names {
			pts[i] = [2]float64{x, 5.4/2 + (float64(len(names)-1)/2-float64(i))*1.2}
		}
		return pts
	}
	pi, ph, po := col(in, 1.2), col(hid, 5), col(out, 8.8)
	weightLine := func(a, b [2]float64, w float32) plots.Line {
		c := color.Color(color.RGBA{37, 99, 235, 255})
		if w < 0 {
			c = color.RGBA{220, 38, 38, 255}
		}
		return plots.Line{From: a, To: b, Width: 0.4 + 5*math.Abs(float64(w)), Color: c}
	}
	for i := range hid {
		for j := range in {
			d.Lines = append(d.Lines, weightLine(pi[j], ph[i], n.hidden.Weight.Value.At(i, j)))
		}
	}
	for i := range out {
		for j := range hid {
			d.Lines = append(d.Lines, weightLine(ph[j], po[i], n.out.Weight.Value.At(i, j)))
		}
	}
	for i, s := range in {
		d.Boxes = append(d.Boxes, plots.Box{X: pi[i][0], Y: pi[i][1], W: 1.6, H: 0.8, Text: s, Fill: ends})
	}
	for i, s := range hid {
		d.Boxes = append(d.Boxes, plots.Box{X: ph[i][0], Y: ph[i][1], W: 1, H: 1, Round: true, Fill: weighty,
			Text: fmt.Sprintf("%s\nReLU", s)})
	}
	for i, s := range out {
		d.Boxes = append(d.Boxes, plots.Box{X: po[i][0], Y: po[i][1], W: 1, H: 1, Round: true, Fill: weighty, Text: s})
	}
	return plots.DrawDiagram(path, d)
}

// paramCount sums the sizes of the parameters whose names contain every one of parts.
func paramCount(ps []*autograd.Var, parts ...string) int {
	n := 0
	for _, p := range ps {
		ok := true
		for _, s := range parts {
			ok = ok && strings.Contains(p.Name(), s)
		}
		if ok {
			n += p.Value.Size()
		}
	}
	return n
}

// flow lays out a column of boxes from the top down.
type flow struct {
	d    *plots.Diagram
	x, y float64 // the centre of the column, the top of the next box
	w    float64
}

// box adds a box of height h under the previous one, with an arrow from it, and returns its
// centre's y.
func (f *flow) box(text string, h float64, fill color.Color, arrow bool) float64 {
	y := f.y - h/2
	if arrow {
		f.d.Arrows = append(f.d.Arrows, plots.Arrow{From: [2]float64{f.x, f.y + 0.45}, To: [2]float64{f.x, f.y}})
	}
	f.d.Boxes = append(f.d.Boxes, plots.Box{X: f.x, Y: y, W: f.w, H: h, Text: text, Fill: fill})
	f.y -= h + 0.45
	return y
}

// residual draws the skip connection of a sub-layer: from the input (at y from) around the
// right of the column into the addition at y to.
func (f *flow) residual(from, to float64) {
	side := f.x + f.w/2 + 0.45
	f.d.Arrows = append(f.d.Arrows, plots.Arrow{
		From: [2]float64{f.x, from}, Via: [][2]float64{{side, from}, {side, to}}, To: [2]float64{f.x + 0.3, to},
	})
}

// add draws a small circle with +: the residual addition.
func (f *flow) add() float64 {
	y := f.y - 0.3
	f.d.Arrows = append(f.d.Arrows, plots.Arrow{From: [2]float64{f.x, f.y + 0.45}, To: [2]float64{f.x, f.y}})
	f.d.Boxes = append(f.d.Boxes, plots.Box{X: f.x, Y: y, W: 0.6, H: 0.6, Text: "+", Round: true, Fill: plain})
	f.y -= 0.6 + 0.45
	return y
}

// drawGPT draws a GPT as its configuration and parameters make it: tokens, embeddings and
// positions, the repeated block of attention and MLP with their residual connections, and the
// next-token probabilities.
func drawGPT(path string, m *model.GPT, title string) error {
	c := m.Config
	ps := m.Parameters()
	hs := c.NEmbd / c.NHead
	d := &plots.Diagram{Title: title, W: 10}
	top := 18.0
	f := &flow{d: d, x: 5, y: top, w: 6}
	f.box(fmt.Sprintf("tokens: T ids, each one of V = %d (at most T = %d)", c.VocabSize, c.BlockSize), 0.7, ends, false)
	// the two embeddings side by side, added
	yE := f.y - 0.45
	d.Arrows = append(d.Arrows, plots.Arrow{From: [2]float64{f.x, f.y + 0.45}, To: [2]float64{2.9, yE}},
		plots.Arrow{From: [2]float64{f.x, f.y + 0.45}, To: [2]float64{7.1, yE}})
	d.Boxes = append(d.Boxes,
		plots.Box{X: 2.9, Y: yE - 0.45, W: 3.8, H: 0.9, Fill: weighty, Text: fmt.Sprintf("wte: a vector of C = %d per token\n%d × %d = %d weights", c.NEmbd, c.VocabSize, c.NEmbd, paramCount(ps, "wte"))},
		plots.Box{X: 7.1, Y: yE - 0.45, W: 3.8, H: 0.9, Fill: weighty, Text: fmt.Sprintf("wpe: a vector per position\n%d × %d = %d weights", c.BlockSize, c.NEmbd, paramCount(ps, "wpe"))})
	f.y = yE - 0.9 - 0.45
	yAdd := f.y - 0.3
	d.Arrows = append(d.Arrows, plots.Arrow{From: [2]float64{2.9, yE - 0.9}, To: [2]float64{f.x - 0.3, yAdd}},
		plots.Arrow{From: [2]float64{7.1, yE - 0.9}, To: [2]float64{f.x + 0.3, yAdd}})
	d.Boxes = append(d.Boxes, plots.Box{X: f.x, Y: yAdd, W: 0.6, H: 0.6, Text: "+", Round: true, Fill: plain})
	f.y = yAdd - 0.3 - 0.45

	// the block, drawn once inside a frame that says how many there are
	frameTop := f.y + 0.2
	f.y -= 0.5
	in1 := f.y + 0.2
	d.Lines = append(d.Lines, plots.Line{From: [2]float64{f.x, yAdd - 0.3}, To: [2]float64{f.x, in1}, Width: 1.2, Color: color.RGBA{60, 70, 90, 255}})
	f.box(fmt.Sprintf("LayerNorm (ln_1): %d weights", paramCount(ps, "h.0.ln_1")), 0.6, weighty, true)
	f.box(fmt.Sprintf("causal self-attention: %d heads of %d, each token looks back\nq, k, v and the output projection: %d weights",
		c.NHead, hs, paramCount(ps, "h.0.attn")), 1, weighty, true)
	add1 := f.add()
	f.residual(in1, add1)
	in2 := add1 - 0.3 - 0.2
	f.box(fmt.Sprintf("LayerNorm (ln_2): %d weights", paramCount(ps, "h.0.ln_2")), 0.6, weighty, true)
	f.box(fmt.Sprintf("MLP: %d → %d (GELU) → %d, each token on its own\n%d weights", c.NEmbd, 4*c.NEmbd, c.NEmbd, paramCount(ps, "h.0.mlp")), 1, weighty, true)
	add2 := f.add()
	f.residual(in2, add2)
	frameBottom := f.y + 0.2
	d.Boxes = append(d.Boxes, plots.Box{X: 5, Y: (frameTop + frameBottom) / 2, W: 9.4, H: frameTop - frameBottom, Frame: true,
		Text: fmt.Sprintf("block × %d (layers), %d weights each", c.NLayer, paramCount(ps, "h.0."))})
	f.y -= 0.25
	f.box(fmt.Sprintf("LayerNorm (ln_f): %d weights", paramCount(ps, "ln_f")), 0.6, weighty, true)
	f.box("scores: each token's vector · every row of wte\n(the same weights as at the top: no new ones)", 0.9, weighty, true)
	f.box(fmt.Sprintf("softmax: the next token's probabilities, V = %d of them", c.VocabSize), 0.7, ends, true)
	d.H = top - f.y + 0.1
	shift(d, f.y-0.1)
	return plots.DrawDiagram(path, *d)
}

// shift moves a diagram down by dy, so that a layout that grew downwards from its top starts
// at 0.
func shift(d *plots.Diagram, dy float64) {
	for i := range d.Boxes {
		d.Boxes[i].Y -= dy
	}
	for i := range d.Arrows {
		a := &d.Arrows[i]
		a.From[1] -= dy
		a.To[1] -= dy
		for j := range a.Via {
			a.Via[j][1] -= dy
		}
	}
	for i := range d.Lines {
		d.Lines[i].From[1] -= dy
		d.Lines[i].To[1] -= dy
	}
}

// sublayer draws one sub-layer of an encoder–decoder layer with its residual connection and
// layer norm, in the order the configuration says: the norm before the sub-layer (pre-LN) or
// after the addition (post-LN, the paper's).
func (f *flow) sublayer(text string, h float64, normFirst bool, norm int) float64 {
	in := f.y + 0.2
	if normFirst {
		f.box(fmt.Sprintf("LayerNorm: %d weights", norm), 0.5, weighty, true)
	}
	y := f.box(text, h, weighty, true)
	add := f.add()
	f.residual(in, add)
	if !normFirst {
		f.box(fmt.Sprintf("LayerNorm: %d weights", norm), 0.5, weighty, true)
	}
	return y
}

// drawTransformer draws an encoder–decoder as its configuration and parameters make it: the
// encoder's stack over the source, the decoder's over the output so far, and the
// cross-attention through which the decoder reads the encoder's output.
func drawTransformer(path string, m *model.Transformer, title string) error {
	c := m.Config
	ps := m.Parameters()
	d := &plots.Diagram{Title: title, W: 13}
	top := 20.0
	enc := &flow{d: d, x: 2.7, y: top, w: 4.6}
	dec := &flow{d: d, x: 9.3, y: top, w: 5.4}
	enc.box(fmt.Sprintf("source tokens (%d kinds)", c.SrcVocabSize), 0.6, ends, false)
	dec.box(fmt.Sprintf("output so far: <start> and what it wrote\n(%d kinds of token)", c.TgtVocabSize), 0.8, ends, false)
	enc.box(fmt.Sprintf("embedding: %d × %d = %d weights\n+ sinusoidal positions (no weights)", c.SrcVocabSize, c.DModel, paramCount(ps, "src_embed")), 0.8, weighty, true)
	dec.box(fmt.Sprintf("embedding: %d × %d = %d weights\n+ sinusoidal positions (no weights)", c.TgtVocabSize, c.DModel, paramCount(ps, "tgt_embed")), 0.8, weighty, true)
	dec.y = min(dec.y, enc.y)
	enc.y = dec.y

	frame := func(f *flow, from, to float64, text string) {
		d.Boxes = append(d.Boxes, plots.Box{X: f.x + 0.2, Y: (from + to) / 2, W: f.w + 1.2, H: from - to, Frame: true, Text: text})
	}
	encTop := enc.y + 0.2
	enc.y -= 0.5
	e0 := "transformer.encoder.layers.0."
	enc.sublayer(fmt.Sprintf("self-attention, %d heads: every source\ntoken looks at every other: %d weights", c.NHead, paramCount(ps, e0+"self_attn")), 0.9, c.NormFirst, paramCount(ps, e0+"norm1"))
	enc.sublayer(fmt.Sprintf("feed-forward %d → %d → %d\n%d weights", c.DModel, c.DimFeedforward, c.DModel, paramCount(ps, e0+"linear")), 0.8, c.NormFirst, paramCount(ps, e0+"norm2"))
	frame(enc, encTop, enc.y+0.2, fmt.Sprintf("encoder layer × %d", c.NumEncoderLayers))
	enc.y -= 0.25
	memY := enc.box(fmt.Sprintf("LayerNorm: %d weights\nthe memory: a vector per source token", paramCount(ps, "transformer.encoder.norm")), 0.8, weighty, true)

	decTop := dec.y + 0.2
	dec.y -= 0.5
	d0 := "transformer.decoder.layers.0."
	dec.sublayer(fmt.Sprintf("causal self-attention, %d heads: each output\ntoken looks back at those before it: %d weights", c.NHead, paramCount(ps, d0+"self_attn")), 0.9, c.NormFirst, paramCount(ps, d0+"norm1"))
	crossY := dec.sublayer(fmt.Sprintf("cross-attention, %d heads: queries from the\noutput, keys and values from the memory\n%d weights", c.NHead, paramCount(ps, d0+"multihead_attn")), 1.1, c.NormFirst, paramCount(ps, d0+"norm2"))
	dec.sublayer(fmt.Sprintf("feed-forward %d → %d → %d\n%d weights", c.DModel, c.DimFeedforward, c.DModel, paramCount(ps, d0+"linear")), 0.8, c.NormFirst, paramCount(ps, d0+"norm3"))
	frame(dec, decTop, dec.y+0.2, fmt.Sprintf("decoder layer × %d", c.NumDecoderLayers))
	dec.y -= 0.25
	dec.box(fmt.Sprintf("LayerNorm: %d weights", paramCount(ps, "transformer.decoder.norm")), 0.5, weighty, true)
	dec.box(fmt.Sprintf("generator: %d → %d scores, %d weights", c.DModel, c.TgtVocabSize, paramCount(ps, "generator")), 0.6, weighty, true)
	dec.box("softmax: the next output token's probabilities", 0.6, ends, true)
	// the memory feeds every decoder layer's cross-attention
	mid := (enc.x + enc.w/2 + 1 + dec.x - dec.w/2 - 0.4) / 2 // between the two frames
	d.Arrows = append(d.Arrows, plots.Arrow{
		From: [2]float64{enc.x + enc.w/2, memY}, Via: [][2]float64{{mid, memY}, {mid, crossY}}, To: [2]float64{dec.x - dec.w/2, crossY},
	})
	low := min(enc.y, dec.y)
	d.H = top - low + 0.1
	shift(d, low-0.1)
	return plots.DrawDiagram(path, *d)
}
