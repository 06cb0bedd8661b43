// Package plots draws the examples' pictures as PNG files with gonum.org/v1/plot, all in one
// style: a title, labelled axes, readable tick labels and, for heat maps, a colour bar.
//
//	plots.Lines("loss.png", plots.Labels{Title: "Training", X: "iteration", Y: "loss"},
//		plots.Series{Name: "train", X: its, Y: train}, plots.Series{Name: "val", X: its, Y: val})
//	plots.HeatMap("attention.png", plots.Grid{Title: "one head", Rows: toks, Cols: toks, Values: w})
//	plots.HeatMaps("heads.png", plots.Panels{Title: "layer 1", Cols: 4}, grids) // a panel per grid, one colour bar
//	plots.Scatter("map.png", plots.Labels{...}, []plots.Point{{X: 0.1, Y: 2, Label: "a"}, ...})
//	plots.DrawDiagram("gpt.png", plots.Diagram{W: 10, H: 14, Boxes: boxes, Arrows: arrows}) // a network's structure
//
// It is internal: the lessons, examples/shakespeare and the other examples share it, and its
// API may change with them. Each function writes one file and returns an error from the
// drawing or the file system; bad input (series of unequal lengths, a ragged grid) is an error
// too, since the numbers come from a training run.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution of the PNG files: 150 dots per inch, so a 16 cm wide picture is about
// 950 pixels wide.
const DPI = 150

// Labels are the texts around a chart.
type Labels struct {
	Title string
	X, Y  string // axis labels
	// LegendLeft puts Lines' legend at the top left instead of the top right, for curves that
	// rise to the right.
	LegendLeft bool
}

// Series is one line of a line chart: the points (X[i], Y[i]), named in the legend.
type Series struct {
	Name string
	X, Y []float64
	// Points draws the points alone, unjoined: for measurements too sparse for a line between
	// them to mean anything (two evaluations are not a trend).
	Points bool
}

// Point is one labelled point of a scatter chart.
type Point struct {
	X, Y  float64
	Label string
}

// newPlot returns a plot with the labels and the package's font sizes.
func newPlot(l Labels) *plot.Plot {
	p := plot.New()
	p.Title.Text = l.Title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = l.X
	p.Y.Label.Text = l.Y
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(10)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	return p
}

// fitTitle shrinks p's title font (down to 9 points) until the title fits in width.
func fitTitle(p *plot.Plot, width vg.Length) {
	for p.Title.TextStyle.Font.Size > vg.Points(9) && p.Title.TextStyle.Width(p.Title.Text) > width-2*margin {
		p.Title.TextStyle.Font.Size -= vg.Points(0.5)
	}
}

// palette10 are well-separated line colours (Tableau's 10).
var palette10 = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

// Lines draws each series as a line, with a legend naming them (when more than one has a
// name), into a PNG file of 16 × 10 cm. A series of 20 points or fewer has each point marked.
// An axis whose values are all non-negative starts at 0.
func Lines(path string, l Labels, series ...Series) error {
	if len(series) == 0 {
		return errors.New("plots.Lines: no series")
	}
	p := newPlot(l)
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = l.LegendLeft
	nonNegative, fromZero := true, true
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("plots.Lines: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		if len(s.X) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
			nonNegative = nonNegative && s.Y[j] >= 0
			fromZero = fromZero && s.X[j] >= 0
		}
		ln, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plots.Lines: series %q: %w", s.Name, err)
		}
		ln.Color = palette10[i%len(palette10)]
		ln.Width = vg.Points(1.8)
		var thumbs []plot.Thumbnailer
		if !s.Points {
			p.Add(ln)
			thumbs = append(thumbs, ln)
		}
		if len(xys) <= 20 || s.Points { // few measurements: mark each one
			pts.Color = ln.Color
			pts.Shape = draw.CircleGlyph{}
			pts.Radius = vg.Points(3)
			p.Add(pts)
			thumbs = append(thumbs, pts)
		}
		if s.Name != "" && len(series) > 1 {
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	if nonNegative { // losses, sizes: measured from 0, so the axis starts there
		p.Y.Min = 0
	}
	if fromZero { // steps, sizes: round ticks from 0
		p.X.Min = 0
	}
	fitTitle(p, 16*vg.Centimeter)
	return save(path, 16*vg.Centimeter, 10*vg.Centimeter, p.Draw)
}

// Scatter draws the points as dots with their labels beside them, into a square PNG file of
// 16 × 16 cm. Each label goes to a free spot around its dot where one is left, so that crowded
// clusters stay readable.
func Scatter(path string, l Labels, pts []Point) error {
	if len(pts) == 0 {
		return errors.New("plots.Scatter: no points")
	}
	p := newPlot(l)
	p.Add(plotter.NewGrid())
	xys := make(plotter.XYs, len(pts))
	labels := make([]string, len(pts))
	for i, q := range pts {
		if !finite(q.X) || !finite(q.Y) {
			return fmt.Errorf("plots.Scatter: point %d (%q) is not finite: (%v, %v)", i, q.Label, q.X, q.Y)
		}
		xys[i] = plotter.XY{X: q.X, Y: q.Y}
		labels[i] = q.Label
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("plots.Scatter: %w", err)
	}
	sc.GlyphStyle.Radius = vg.Points(2.5)
	sc.GlyphStyle.Color = palette10[0]
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	lb := newPlacedLabels(xys, labels, vg.Points(11), sc.GlyphStyle.Radius)
	p.Add(sc, lb)
	fitTitle(p, 16*vg.Centimeter)
	return save(path, 16*vg.Centimeter, 16*vg.Centimeter, p.Draw)
}

// margin is the white border around every picture.
const margin = 3 * vg.Millimeter

// save draws onto a PNG canvas of w × h and writes it to path, creating path's directory.
func save(path string, w, h vg.Length, drawFn func(draw.Canvas)) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	drawFn(draw.Crop(dc, margin, -margin, margin, -margin))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plots: writing %s: %w", path, err)
	}
	return f.Close()
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// textStyle is the style of text drawn directly on a canvas.
func textStyle(size vg.Length) draw.TextStyle {
	return draw.TextStyle{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, size),
		Handler: plot.DefaultTextHandler,
		XAlign:  draw.XCenter,
		YAlign:  draw.YTop,
	}
}
