package plots

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// placedLabels draws a label beside each point, choosing for each the first of several spots
// around its point (right, left, above, below, the corners, then farther out) where it overlaps
// neither an earlier label nor a point, so that labels in a crowded cluster stay readable.
type placedLabels struct {
	xys    plotter.XYs
	labels []string
	style  text.Style
	radius vg.Length // of the points' dots
}

func newPlacedLabels(xys plotter.XYs, labels []string, size, radius vg.Length) *placedLabels {
	return &placedLabels{xys: xys, labels: labels, radius: radius, style: text.Style{
		Font:    font.From(plot.DefaultFont, size),
		Handler: plot.DefaultTextHandler,
		YAlign:  draw.YCenter,
	}}
}

// Plot implements plot.Plotter.
func (l *placedLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	dots := make([]vg.Rectangle, len(l.xys))
	for i, xy := range l.xys {
		pt := vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		r := l.radius
		dots[i] = vg.Rectangle{Min: vg.Point{X: pt.X - r, Y: pt.Y - r}, Max: vg.Point{X: pt.X + r, Y: pt.Y + r}}
	}
	var placed []vg.Rectangle
	gap := l.radius + vg.Points(1.5)
	for i, lab := range l.labels {
		pt := vg.Point{X: trX(l.xys[i].X), Y: trY(l.xys[i].Y)}
		h := l.style.Height(lab)
		type spot struct {
			dx, dy vg.Length
			align  text.XAlignment
		}
		var spots []spot
		for _, k := range []vg.Length{1, 2.2, 3.4} {
			d, v := gap*k, (h/2+gap)*k
			spots = append(spots,
				spot{d, 0, draw.XLeft}, spot{-d, 0, draw.XRight}, spot{0, v, draw.XCenter}, spot{0, -v, draw.XCenter},
				spot{d, v, draw.XLeft}, spot{d, -v, draw.XLeft}, spot{-d, v, draw.XRight}, spot{-d, -v, draw.XRight})
		}
		best, bestRect := spots[0], vg.Rectangle{}
		found := false
		for _, s := range spots {
			st := l.style
			st.XAlign = s.align
			at := vg.Point{X: pt.X + s.dx, Y: pt.Y + s.dy}
			r := st.Rectangle(lab).Add(at)
			if !inside(r, c.Rectangle) || overlapsAny(r, placed) || overlapsAny(r, dots) {
				continue
			}
			best, bestRect, found = s, r, true
			break
		}
		st := l.style
		st.XAlign = best.align
		at := vg.Point{X: pt.X + best.dx, Y: pt.Y + best.dy}
		if !found {
			bestRect = st.Rectangle(lab).Add(at)
		}
		placed = append(placed, bestRect)
		c.FillText(st, at, lab)
	}
}

// DataRange implements plot.DataRanger: the points' range.
func (l *placedLabels) DataRange() (xmin, xmax, ymin, ymax float64) { return plotter.XYRange(l.xys) }

// GlyphBoxes implements plot.GlyphBoxer: room for a label on either side of each point, so
// that the axes leave space for them.
func (l *placedLabels) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	bs := make([]plot.GlyphBox, len(l.labels))
	for i, lab := range l.labels {
		w, h := l.style.Width(lab)+l.radius+vg.Points(2), l.style.Height(lab)
		bs[i] = plot.GlyphBox{
			X: p.X.Norm(l.xys[i].X), Y: p.Y.Norm(l.xys[i].Y),
			Rectangle: vg.Rectangle{Min: vg.Point{X: -w, Y: -h}, Max: vg.Point{X: w, Y: h}},
		}
	}
	return bs
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

func overlapsAny(r vg.Rectangle, rs []vg.Rectangle) bool {
	for _, o := range rs {
		if overlaps(r, o) {
			return true
		}
	}
	return false
}

func inside(r, outer vg.Rectangle) bool {
	return r.Min.X >= outer.Min.X && r.Max.X <= outer.Max.X && r.Min.Y >= outer.Min.Y && r.Max.Y <= outer.Max.Y
}
