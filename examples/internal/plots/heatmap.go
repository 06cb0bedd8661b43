package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a matrix to draw as a heat map: row i of Values is drawn as the i-th row from the top
// (as a matrix is written), column j as the j-th column from the left.
type Grid struct {
	Title string
	X, Y  string // axis labels
	// Rows and Cols name the rows and columns on the axes (tokens, say); nil numbers them
	// from 0. Where there are too many to write legibly, every k-th is written.
	Rows, Cols []string
	Values     [][]float64
	// ShowValues writes each cell's value in it, with two decimals (for small grids).
	ShowValues bool
	// Masked, when not nil, marks the cells that hold no real value (the future positions of a
	// causal attention map): ShowValues writes · in them instead of a number.
	Masked func(i, j int) bool
	// Diverging colours negative values blue and positive ones red, around a white 0, for
	// signed numbers; otherwise the scale runs from white (Min) to dark blue (Max).
	Diverging bool
	// Min and Max fix the colour scale; both 0 means the data's range (for Diverging, ±the
	// largest magnitude).
	Min, Max float64
}

// dims checks that g is a non-empty rectangle with labels of the right counts.
func (g *Grid) dims() (rows, cols int, err error) {
	rows = len(g.Values)
	if rows == 0 || len(g.Values[0]) == 0 {
		return 0, 0, errors.New("empty grid")
	}
	cols = len(g.Values[0])
	for i, r := range g.Values {
		if len(r) != cols {
			return 0, 0, fmt.Errorf("row %d has %d values, row 0 has %d", i, len(r), cols)
		}
		for j, v := range r {
			if !finite(v) {
				return 0, 0, fmt.Errorf("value (%d, %d) is %v", i, j, v)
			}
		}
	}
	if g.Rows != nil && len(g.Rows) != rows {
		return 0, 0, fmt.Errorf("%d row labels for %d rows", len(g.Rows), rows)
	}
	if g.Cols != nil && len(g.Cols) != cols {
		return 0, 0, fmt.Errorf("%d column labels for %d columns", len(g.Cols), cols)
	}
	return rows, cols, nil
}

// scale returns the colour scale's range.
func (g *Grid) scale() (lo, hi float64) {
	if g.Min != 0 || g.Max != 0 {
		return g.Min, g.Max
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, r := range g.Values {
		for _, v := range r {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if g.Diverging {
		m := math.Max(math.Abs(lo), math.Abs(hi))
		lo, hi = -m, m
	}
	if lo == hi {
		lo, hi = lo-1, hi+1
	}
	return lo, hi
}

// colorMap returns g's colour map over [lo, hi].
func (g *Grid) colorMap(lo, hi float64) palette.ColorMap {
	var cm palette.ColorMap
	if g.Diverging {
		cm = moreland.SmoothBlueRed()
	} else {
		// luminance rises from dark blue to white; reversed, small values are white
		l, err := moreland.NewLuminance([]color.Color{
			color.RGBA{8, 48, 107, 255}, color.RGBA{33, 113, 181, 255},
			color.RGBA{107, 174, 214, 255}, color.RGBA{255, 255, 255, 255},
		})
		if err != nil {
			panic(err) // fixed colours of increasing luminance
		}
		cm = palette.Reverse(l)
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	return cm
}

// matrix adapts a Grid to plotter.GridXYZ: row i of Values sits at y = rows−1−i, so that row 0
// is drawn at the top.
type matrix struct {
	v          [][]float64
	rows, cols int
}

func (m matrix) Dims() (c, r int)   { return m.cols, m.rows }
func (m matrix) Z(c, r int) float64 { return m.v[m.rows-1-r][c] }
func (m matrix) X(c int) float64    { return float64(c) }
func (m matrix) Y(r int) float64    { return float64(r) }

// ticks names positions 0..n−1 with labels (numbers when nil), every step-th one so that at most
// max are written; reversed puts label i at n−1−i.
func ticks(labels []string, n, max int, reversed bool) plot.ConstantTicks {
	step := 1
	for n/step > max {
		step++
	}
	if labels == nil && step > 1 { // round numbers read better: 0, 5, 10 ... or 0, 10, 20 ...
		for _, s := range []int{2, 5, 10, 20, 25, 50, 100, 200, 500, 1000} {
			if s >= step {
				step = s
				break
			}
		}
	}
	var ts plot.ConstantTicks
	for i := 0; i < n; i += step {
		lab := fmt.Sprint(i)
		if labels != nil {
			lab = labels[i]
		}
		pos := float64(i)
		if reversed {
			pos = float64(n - 1 - i)
		}
		ts = append(ts, plot.Tick{Value: pos, Label: lab})
	}
	return ts
}

// heatPlot builds the plot of one grid, coloured by cm over [lo, hi]. size is the side of the
// data area it will be drawn in, to size the tick labels.
func heatPlot(g Grid, cm palette.ColorMap, lo, hi float64, size vg.Length) (*plot.Plot, error) {
	rows, cols, err := g.dims()
	if err != nil {
		return nil, err
	}
	p := newPlot(Labels{Title: g.Title, X: g.X, Y: g.Y})
	h := plotter.NewHeatMap(matrix{g.Values, rows, cols}, cm.Palette(256))
	h.Min, h.Max = lo, hi
	p.Add(h)
	// a label per cell where the cells are at least 6 points tall, in a font that fits the cell
	cell := size / vg.Length(max(rows, cols))
	fontSize := min(vg.Points(10), max(vg.Points(6), cell*0.85))
	maxLabels := max(4, int(size/fontSize))
	p.X.Tick.Marker = ticks(g.Cols, cols, maxLabels, false)
	p.Y.Tick.Marker = ticks(g.Rows, rows, maxLabels, true)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Label.Font.Size = fontSize
		a.Padding = 0
	}
	// column labels wider than the room between two of them (words over narrow columns) are
	// written upwards
	xt := p.X.Tick.Marker.Ticks(0, float64(cols-1))
	room := cell
	if len(xt) > 1 {
		room = cell * vg.Length(xt[1].Value-xt[0].Value)
	}
	for _, t := range xt {
		if p.X.Tick.Label.Width(t.Label) > room*0.9 {
			p.X.Tick.Label.Rotation = math.Pi / 2
			p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
			break
		}
	}
	if g.ShowValues {
		var xys plotter.XYs
		var texts []string
		var dark []bool
		for i, r := range g.Values {
			for j, v := range r {
				xys = append(xys, plotter.XY{X: float64(j), Y: float64(rows - 1 - i)})
				if g.Masked != nil && g.Masked(i, j) {
					texts = append(texts, "·")
				} else {
					texts = append(texts, fmt.Sprintf("%.2f", v))
				}
				f := (v - lo) / (hi - lo) // position on the scale: dark cells get white text
				dark = append(dark, (!g.Diverging && f > 0.55) || (g.Diverging && math.Abs(2*f-1) > 0.6))
			}
		}
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
		if err != nil {
			return nil, err
		}
		cellPts := size / vg.Length(max(rows, cols))
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font.Size = min(vg.Points(10), cellPts/3.2)
			lb.TextStyle[i].XAlign = draw.XCenter
			lb.TextStyle[i].YAlign = draw.YCenter
			if dark[i] {
				lb.TextStyle[i].Color = color.White
			}
		}
		p.Add(lb)
	}
	return p, nil
}

// colorBar returns a plot holding only a vertical colour bar for cm.
func colorBar(cm palette.ColorMap) *plot.Plot {
	p := newPlot(Labels{})
	p.HideX()
	p.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	p.Y.Padding = 0
	return p
}

// HeatMap draws one grid with a colour bar beside it, into a PNG file about 16 cm wide.
func HeatMap(path string, g Grid) error {
	rows, cols, err := g.dims()
	if err != nil {
		return fmt.Errorf("plots.HeatMap %q: %w", g.Title, err)
	}
	lo, hi := g.scale()
	cm := g.colorMap(lo, hi)
	const bar = 2.6 * vg.Centimeter
	w := 16 * vg.Centimeter
	side := w - bar - 3*vg.Centimeter // the data area, less the tick labels
	cell := side / vg.Length(cols)
	h := cell*vg.Length(rows) + 4*vg.Centimeter // room for the title and the x labels
	h = max(h, 8*vg.Centimeter)
	p, err := heatPlot(g, cm, lo, hi, min(side, cell*vg.Length(rows)))
	if err != nil {
		return fmt.Errorf("plots.HeatMap %q: %w", g.Title, err)
	}
	fitTitle(p, w-bar)
	return save(path, w, h, func(dc draw.Canvas) {
		main := draw.Crop(dc, 0, -bar, 0, 0)
		p.Draw(main)
		drawBar(dc, cm, bar, p.DataCanvas(main))
	})
}

// drawBar draws the colour bar of cm in the rightmost bar of dc, level with the data area da.
func drawBar(dc draw.Canvas, cm palette.ColorMap, bar vg.Length, da draw.Canvas) {
	c := dc
	c.Min.X = dc.Max.X - bar + vg.Points(6)
	c.Min.Y, c.Max.Y = da.Min.Y, da.Max.Y
	colorBar(cm).Draw(c)
}

// Panels lays out the pictures HeatMaps draws.
type Panels struct {
	Title    string
	Subtitle string // a second, smaller line under the title (what a cell means, say)
	Cols     int    // panels per row
	// Side is the longer side of each panel's data area, in centimetres (0: 9). The other side
	// follows the first grid's shape, so that its cells are square.
	Side float64
}

// HeatMaps draws several grids as panels, l.Cols to a row, under one title and one colour scale
// (the union of the panels' ranges, or the first panel's Min and Max when set), into a PNG file
// sized to hold them: each panel's data area is l.Side centimetres on its longer side, plus its
// title and tick labels.
func HeatMaps(path string, l Panels, grids []Grid) error {
	if len(grids) == 0 || l.Cols <= 0 {
		return fmt.Errorf("plots.HeatMaps %q: %d panels in %d columns", l.Title, len(grids), l.Cols)
	}
	if l.Side < 0 || math.IsNaN(l.Side) || math.IsInf(l.Side, 0) {
		return fmt.Errorf("plots.HeatMaps %q: panel side %v cm", l.Title, l.Side)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range grids {
		if _, _, err := grids[i].dims(); err != nil {
			return fmt.Errorf("plots.HeatMaps %q: panel %d: %w", l.Title, i, err)
		}
		a, b := grids[i].scale()
		lo, hi = math.Min(lo, a), math.Max(hi, b)
	}
	if grids[0].Min != 0 || grids[0].Max != 0 {
		lo, hi = grids[0].Min, grids[0].Max
	}
	cm := grids[0].colorMap(lo, hi)
	side := 9 * vg.Centimeter
	if l.Side > 0 {
		side = vg.Length(l.Side) * vg.Centimeter
	}
	r0, c0, _ := grids[0].dims()
	cell := side / vg.Length(max(r0, c0))
	dw, dh := cell*vg.Length(c0), cell*vg.Length(r0) // each panel's data area
	cols := min(l.Cols, len(grids))
	rowsN := (len(grids) + cols - 1) / cols
	ps := make([][]*plot.Plot, rowsN)
	for r := range ps {
		ps[r] = make([]*plot.Plot, cols)
	}
	for i, g := range grids {
		p, err := heatPlot(g, cm, lo, hi, side)
		if err != nil {
			return fmt.Errorf("plots.HeatMaps %q: panel %d: %w", l.Title, i, err)
		}
		fitTitle(p, dw+2*vg.Centimeter)
		ps[i/cols][i%cols] = p
	}
	// The room each panel needs around its data area (title, tick labels, axis labels) depends
	// on the texts only: measure it on a canvas of any size, then make the picture that size
	// plus the data areas, which plot.Align then gets exactly.
	probe := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: 100 * vg.Centimeter, Y: 100 * vg.Centimeter}}}
	type room struct{ lo, hi vg.Length }
	xRoom, yRoom := make([]room, cols), make([]room, rowsN)
	for r := range ps {
		for c, p := range ps[r] {
			if p == nil {
				continue
			}
			da := p.DataCanvas(probe)
			xRoom[c].lo, xRoom[c].hi = max(xRoom[c].lo, da.Min.X-probe.Min.X), max(xRoom[c].hi, probe.Max.X-da.Max.X)
			yRoom[r].lo, yRoom[r].hi = max(yRoom[r].lo, da.Min.Y-probe.Min.Y), max(yRoom[r].hi, probe.Max.Y-da.Max.Y)
		}
	}
	const bar = 2.6 * vg.Centimeter
	const pad = 4 * vg.Millimeter
	head := 1.4 * vg.Centimeter
	if l.Subtitle != "" {
		head += 0.7 * vg.Centimeter
	}
	tiles := draw.Tiles{Rows: rowsN, Cols: cols, PadX: pad, PadY: pad, PadTop: pad / 2, PadBottom: pad / 2, PadLeft: pad / 2, PadRight: pad / 2}
	w := dw*vg.Length(cols) + pad*vg.Length(cols-1) + pad + bar
	for _, x := range xRoom {
		w += x.lo + x.hi
	}
	h := dh*vg.Length(rowsN) + pad*vg.Length(rowsN-1) + pad + head
	for _, y := range yRoom {
		h += y.lo + y.hi
	}
	titleStyle, subStyle := textStyle(vg.Points(16)), textStyle(vg.Points(11))
	for titleStyle.Font.Size > vg.Points(10) && titleStyle.Width(l.Title) > w-bar {
		titleStyle.Font.Size -= vg.Points(0.5)
	}
	for subStyle.Font.Size > vg.Points(8) && subStyle.Width(l.Subtitle) > w-bar {
		subStyle.Font.Size -= vg.Points(0.5)
	}
	return save(path, w+2*margin, h+2*margin, func(dc draw.Canvas) {
		mid := (dc.Min.X + dc.Max.X - bar) / 2
		dc.FillText(titleStyle, vg.Point{X: mid, Y: dc.Max.Y - vg.Points(8)}, l.Title)
		if l.Subtitle != "" {
			dc.FillText(subStyle, vg.Point{X: mid, Y: dc.Max.Y - vg.Points(8) - 0.75*vg.Centimeter}, l.Subtitle)
		}
		body := draw.Crop(dc, 0, -bar, 0, -head)
		canvases := plot.Align(ps, tiles, body)
		for r := range ps {
			for c := range ps[r] {
				if ps[r][c] != nil {
					ps[r][c].Draw(canvases[r][c])
				}
			}
		}
		// level with the top row's first panel and the bottom row's
		top, bottom := ps[0][0].DataCanvas(canvases[0][0]), ps[rowsN-1][0].DataCanvas(canvases[rowsN-1][0])
		da := top
		da.Min.Y = bottom.Min.Y
		drawBar(dc, cm, bar, da)
	})
}
