package main

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tensor"
)

// attnGrid is one head's cross-attention (Tt, Ts) as a heat map grid: column c is source token
// c, row r is output token r, drawn top to bottom.
type attnGrid struct {
	w      *tensor.Tensor // (Tt, Ts)
	tt, ts int
}

func (g attnGrid) Dims() (c, r int)   { return g.ts, g.tt }
func (g attnGrid) Z(c, r int) float64 { return float64(g.w.At(g.tt-1-r, c)) }
func (g attnGrid) X(c int) float64    { return float64(c) }
func (g attnGrid) Y(r int) float64    { return float64(r) }

// labels puts a token's text at each integer position.
type labels []string

func (l labels) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for i, s := range l {
		if float64(i) >= lo-0.5 && float64(i) <= hi+0.5 {
			ts = append(ts, plot.Tick{Value: float64(i), Label: s})
		}
	}
	return ts
}

// plotAttention translates input and draws the last decoder layer's cross-attention while it
// wrote the translation, one panel per head, source tokens across, output tokens down.
func plotAttention(ctx context.Context, m *model.Transformer, v *vocab, input, path string) error {
	src, err := v.encode(input)
	if err != nil {
		return err
	}
	hyps, err := m.Translate(ctx, [][]int{src}, model.Decoding{MaxNew: 16})
	if err != nil {
		return err
	}
	out := append(hyps[0].Tokens, eosID)
	tgtIn := append([]int{bosID}, hyps[0].Tokens...) // position t predicts out[t]
	ws, err := m.CrossAttention(src, tgtIn)
	if err != nil {
		return err
	}
	layer := len(ws) - 1
	w := ws[layer] // (NH, Tt, Ts)
	nh, tt, ts := w.Dim(0), w.Dim(1), w.Dim(2)

	srcLabels := make(labels, ts)
	for i, id := range src {
		srcLabels[i] = v.tokens[id]
	}
	outLabels := make(labels, tt) // top to bottom
	for r := range tt {
		outLabels[tt-1-r] = v.tokens[out[r]]
	}

	cols := min(nh, 4)
	rows := (nh + cols - 1) / cols
	pal := moreland.Kindlmann()
	pal.SetMax(1)
	pal.SetMin(0)
	colors := pal.Palette(256)
	plots := make([][]*plot.Plot, rows)
	for r := range rows {
		plots[r] = make([]*plot.Plot, cols)
		for c := range cols {
			h := r*cols + c
			if h >= nh {
				continue
			}
			p := plot.New()
			p.Title.Text = fmt.Sprintf("head %d", h+1)
			hm := plotter.NewHeatMap(attnGrid{w.Index(0, h), tt, ts}, colors)
			hm.Min, hm.Max = 0, 1
			p.Add(hm)
			p.X.Tick.Marker, p.Y.Tick.Marker = srcLabels, outLabels
			p.X.Tick.Label.Rotation = math.Pi / 2
			p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
			p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = 11, 11
			p.X.Label.Text, p.Y.Label.Text = "source token", "output token"
			p.X.Min, p.X.Max = -0.5, float64(ts)-0.5
			p.Y.Min, p.Y.Max = -0.5, float64(tt)-0.5
			plots[r][c] = p
		}
	}

	panel := 5 * vg.Centimeter
	width, height := vg.Length(cols)*panel+2*vg.Centimeter, vg.Length(rows)*panel+3.4*vg.Centimeter
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(150))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	title := fmt.Sprintf("Cross-attention of decoder layer %d of %d: %q → %q", layer+1, len(ws), input, v.decode(hyps[0].Tokens))
	sty := text.Style{
		Color: color.Black, Font: font.From(plot.DefaultFont, 13), XAlign: draw.XCenter, YAlign: draw.YTop,
		Handler: plot.DefaultTextHandler,
	}
	dc.FillText(sty, vg.Point{X: width / 2, Y: height - 0.3*vg.Centimeter}, title)
	sty.Font = font.From(plot.DefaultFont, 10)
	dc.FillText(sty, vg.Point{X: width / 2, Y: height - 1.0*vg.Centimeter},
		"each row: where the decoder looked while writing that output token (black 0 → white 1)")
	body := draw.Crop(dc, 0, 0, 0, -1.6*vg.Centimeter)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 0.6 * vg.Centimeter, PadY: 0.6 * vg.Centimeter,
		PadLeft: 0.3 * vg.Centimeter, PadRight: 0.5 * vg.Centimeter, PadBottom: 0.3 * vg.Centimeter}
	canvases := plot.Align(plots, tiles, body)
	for r := range rows {
		for c := range cols {
			if plots[r][c] != nil {
				plots[r][c].Draw(canvases[r][c])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
