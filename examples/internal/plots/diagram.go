package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Diagram is a drawing of boxes joined by arrows and lines: the structure of a network. Its
// coordinates are its own units, x to the right and y upwards, over [0, W] × [0, H]; the
// picture keeps their proportions.
type Diagram struct {
	Title  string
	W, H   float64
	Boxes  []Box
	Arrows []Arrow
	Lines  []Line
}

// Box is a rectangle centred on (X, Y), W × H, with lines of text in it (split at \n). A
// Frame is drawn as a dashed outline with its text at its top-left corner: a group of boxes
// (the repeated block of a GPT).
type Box struct {
	X, Y, W, H float64
	Text       string
	Fill       color.Color // nil: light grey
	Frame      bool
	Round      bool // drawn as a circle of diameter min(W, H): a neuron, an addition
}

// Arrow points from From to To through the corners Via (none: a straight arrow), with an
// optional label beside its middle.
type Arrow struct {
	From, To [2]float64
	Via      [][2]float64
	Text     string
}

// Line joins two points without a head: a weight between two neurons, its width and colour
// saying its size and sign.
type Line struct {
	From, To [2]float64
	Width    float64 // in points; 0: 1
	Color    color.Color
}

// DrawDiagram draws d into a PNG file 16 cm wide.
func DrawDiagram(path string, d Diagram) error {
	if !(d.W > 0 && d.H > 0) || !finite(d.W) || !finite(d.H) {
		return fmt.Errorf("plots.DrawDiagram: size %v × %v", d.W, d.H)
	}
	if len(d.Boxes) == 0 {
		return errors.New("plots.DrawDiagram: no boxes")
	}
	width := 16 * vg.Centimeter
	titleH := vg.Length(0)
	if d.Title != "" {
		titleH = vg.Points(22)
	}
	scale := (width - 2*margin) / vg.Length(d.W)
	height := scale*vg.Length(d.H) + titleH + 2*margin
	return save(path, width, height, func(c draw.Canvas) {
		if d.Title != "" {
			ts := textStyle(vg.Points(14))
			ts.XAlign, ts.YAlign = draw.XCenter, draw.YTop
			for ts.Width(d.Title) > c.Max.X-c.Min.X && ts.Font.Size > vg.Points(9) {
				ts.Font.Size -= vg.Points(0.5)
			}
			c.FillText(ts, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y}, d.Title)
		}
		at := func(p [2]float64) vg.Point {
			return vg.Point{X: c.Min.X + scale*vg.Length(p[0]), Y: c.Min.Y + scale*vg.Length(p[1])}
		}
		// frames first, then lines, boxes, arrows: arrows end on the boxes' edges
		for _, b := range d.Boxes {
			if b.Frame {
				drawFrame(c, b, at, scale)
			}
		}
		for _, l := range d.Lines {
			w := l.Width
			if w == 0 {
				w = 1
			}
			col := l.Color
			if col == nil {
				col = color.Gray{Y: 120}
			}
			c.StrokeLine2(draw.LineStyle{Color: col, Width: vg.Points(w)}, at(l.From).X, at(l.From).Y, at(l.To).X, at(l.To).Y)
		}
		for _, b := range d.Boxes {
			if !b.Frame {
				drawBox(c, b, at, scale)
			}
		}
		for _, a := range d.Arrows {
			drawArrow(c, a, at)
		}
	})
}

var boxGrey = color.RGBA{236, 239, 244, 255}

func drawBox(c draw.Canvas, b Box, at func([2]float64) vg.Point, scale vg.Length) {
	fill := b.Fill
	if fill == nil {
		fill = boxGrey
	}
	ctr := at([2]float64{b.X, b.Y})
	edge := draw.LineStyle{Color: color.RGBA{90, 100, 120, 255}, Width: vg.Points(0.8)}
	var path vg.Path
	if b.Round {
		r := scale * vg.Length(math.Min(b.W, b.H)) / 2
		path.Move(vg.Point{X: ctr.X + r, Y: ctr.Y})
		path.Arc(ctr, r, 0, 2*math.Pi)
		path.Close()
	} else {
		hw, hh := scale*vg.Length(b.W)/2, scale*vg.Length(b.H)/2
		path.Move(vg.Point{X: ctr.X - hw, Y: ctr.Y - hh})
		path.Line(vg.Point{X: ctr.X + hw, Y: ctr.Y - hh})
		path.Line(vg.Point{X: ctr.X + hw, Y: ctr.Y + hh})
		path.Line(vg.Point{X: ctr.X - hw, Y: ctr.Y + hh})
		path.Close()
	}
	c.SetColor(fill)
	c.Fill(path)
	c.SetLineStyle(edge)
	c.Stroke(path)
	lines := strings.Split(b.Text, "\n")
	ts := textStyle(vg.Points(10))
	ts.XAlign, ts.YAlign = draw.XCenter, draw.YCenter
	// the largest font up to 10 points whose lines fit the box
	for ts.Font.Size > vg.Points(6) {
		fits := vg.Length(len(lines))*ts.Height("Xg")*1.1 <= scale*vg.Length(b.H)
		for _, l := range lines {
			fits = fits && ts.Width(l) <= scale*vg.Length(b.W)*0.94
		}
		if fits {
			break
		}
		ts.Font.Size -= vg.Points(0.5)
	}
	lh := ts.Height("Xg") * 1.1
	top := ctr.Y + lh*vg.Length(len(lines)-1)/2
	for i, l := range lines {
		c.FillText(ts, vg.Point{X: ctr.X, Y: top - lh*vg.Length(i)}, l)
	}
}

func drawFrame(c draw.Canvas, b Box, at func([2]float64) vg.Point, scale vg.Length) {
	ctr := at([2]float64{b.X, b.Y})
	hw, hh := scale*vg.Length(b.W)/2, scale*vg.Length(b.H)/2
	pts := []vg.Point{{X: ctr.X - hw, Y: ctr.Y - hh}, {X: ctr.X + hw, Y: ctr.Y - hh}, {X: ctr.X + hw, Y: ctr.Y + hh}, {X: ctr.X - hw, Y: ctr.Y + hh}, {X: ctr.X - hw, Y: ctr.Y - hh}}
	if b.Fill != nil {
		c.FillPolygon(b.Fill, pts)
	}
	c.StrokeLines(draw.LineStyle{Color: color.RGBA{90, 100, 120, 255}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}, pts)
	ts := textStyle(vg.Points(10))
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YTop
	for i, l := range strings.Split(b.Text, "\n") {
		c.FillText(ts, vg.Point{X: ctr.X - hw + vg.Points(4), Y: ctr.Y + hh - vg.Points(3) - vg.Length(i)*ts.Height("Xg")*1.1}, l)
	}
}

func drawArrow(c draw.Canvas, a Arrow, at func([2]float64) vg.Point) {
	pts := []vg.Point{at(a.From)}
	for _, v := range a.Via {
		pts = append(pts, at(v))
	}
	pts = append(pts, at(a.To))
	ls := draw.LineStyle{Color: color.RGBA{60, 70, 90, 255}, Width: vg.Points(1.2)}
	c.StrokeLines(ls, pts)
	// the head: a filled triangle along the last segment
	p, q := pts[len(pts)-2], pts[len(pts)-1]
	dx, dy := float64(q.X-p.X), float64(q.Y-p.Y)
	n := math.Hypot(dx, dy)
	if n > 0 {
		ux, uy := dx/n, dy/n
		l, w := float64(vg.Points(7)), float64(vg.Points(3.5))
		c.FillPolygon(ls.Color, []vg.Point{
			q,
			{X: q.X - vg.Length(l*ux-w*uy), Y: q.Y - vg.Length(l*uy+w*ux)},
			{X: q.X - vg.Length(l*ux+w*uy), Y: q.Y - vg.Length(l*uy-w*ux)},
		})
	}
	if a.Text != "" {
		mid := vg.Point{X: (pts[0].X + pts[1].X) / 2, Y: (pts[0].Y + pts[1].Y) / 2}
		ts := textStyle(vg.Points(8.5))
		ts.XAlign, ts.YAlign = draw.XLeft, draw.YCenter
		c.FillText(ts, vg.Point{X: mid.X + vg.Points(4), Y: mid.Y}, a.Text)
	}
}
