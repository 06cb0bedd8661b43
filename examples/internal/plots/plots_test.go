package plots

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decode opens a PNG and returns its size in pixels.
func decode(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, "%s is a PNG", path)
	return img.Bounds().Size()
}

// TestPictures draws one picture of each kind; set PLOTS_DIR to keep them there and look at them.
func TestPictures(t *testing.T) {
	dir := os.Getenv("PLOTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	// one centimetre at DPI is 59 pixels
	cm := float64(DPI) / 2.54

	x := []float64{0, 1, 2, 3, 4}
	require.NoError(t, Lines(filepath.Join(dir, "sub", "lines.png"), Labels{Title: "Loss", X: "iteration", Y: "loss"},
		Series{Name: "train", X: x, Y: []float64{4, 3, 2.5, 2.2, 2}}, Series{Name: "val", X: x, Y: []float64{4, 3.1, 2.7, 2.5, 2.4}}))
	size := decode(t, filepath.Join(dir, "sub", "lines.png"))
	assert.InDelta(t, 16*cm, size.X, 2)
	assert.InDelta(t, 10*cm, size.Y, 2)

	require.NoError(t, Scatter(filepath.Join(dir, "scatter.png"), Labels{Title: "Map", X: "PC1", Y: "PC2"},
		[]Point{{0, 0, "a"}, {1, 0.5, "e"}, {-1, 2, "z"}}))
	size = decode(t, filepath.Join(dir, "scatter.png"))
	assert.InDelta(t, 16*cm, size.X, 2)
	assert.InDelta(t, 16*cm, size.Y, 2)

	g := Grid{Title: "Attention", X: "looks at", Y: "token", Rows: []string{"a", "b", "c"}, Cols: []string{"a", "b", "c"},
		Values: [][]float64{{1, 0, 0}, {0.5, 0.5, 0}, {0.2, 0.3, 0.5}}, ShowValues: true, Max: 1}
	require.NoError(t, HeatMap(filepath.Join(dir, "heat.png"), g))
	size = decode(t, filepath.Join(dir, "heat.png"))
	assert.InDelta(t, 16*cm, size.X, 2)
	assert.Greater(t, size.Y, int(8*cm)-2)

	require.NoError(t, HeatMaps(filepath.Join(dir, "heats.png"), Panels{Title: "Heads", Cols: 2}, []Grid{g, g, g}))
	size = decode(t, filepath.Join(dir, "heats.png"))
	assert.Greater(t, size.X, int(2*9*cm), "two data areas of 9 cm side by side")
	assert.Greater(t, size.Y, int(2*9*cm))

	// a grid taller than wide, as cross-attention is (output tokens × source tokens): square cells
	tall := Grid{Title: "head 1", X: "source", Y: "output", Max: 1, Cols: []string{"july", "4", ",", "1976"},
		Rows: []string{"1", "9", "7", "6", "-", "0", "7", "-", "0", "4", "</s>"}}
	for i := range tall.Rows {
		row := make([]float64, len(tall.Cols))
		row[i%len(row)] = 1
		tall.Values = append(tall.Values, row)
	}
	require.NoError(t, HeatMaps(filepath.Join(dir, "tall.png"), Panels{Title: "Cross-attention", Subtitle: "each row: where one output token looked",
		Cols: 4, Side: 5}, []Grid{tall, tall, tall, tall}))
	size = decode(t, filepath.Join(dir, "tall.png"))
	assert.Greater(t, size.X, size.Y, "four tall panels side by side")
	assert.Less(t, size.X, int(4*9*cm), "narrow panels for narrow grids")

	big := make([][]float64, 64)
	for i := range big {
		big[i] = make([]float64, 32)
		for j := range big[i] {
			big[i][j] = math.Sin(float64(i) / float64(j+1))
		}
	}
	require.NoError(t, HeatMap(filepath.Join(dir, "big.png"), Grid{Title: "Signed", X: "channel", Y: "position", Values: big, Diverging: true}))
	decode(t, filepath.Join(dir, "big.png"))
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	assert.Error(t, Lines(filepath.Join(dir, "a.png"), Labels{}))
	assert.Error(t, Lines(filepath.Join(dir, "a.png"), Labels{}, Series{X: []float64{1}, Y: nil}))
	assert.Error(t, Scatter(filepath.Join(dir, "a.png"), Labels{}, []Point{{math.NaN(), 0, "x"}}))
	assert.Error(t, HeatMap(filepath.Join(dir, "a.png"), Grid{Values: [][]float64{{1, 2}, {3}}}))
	assert.Error(t, HeatMap(filepath.Join(dir, "a.png"), Grid{Values: [][]float64{{1}}, Rows: []string{"a", "b"}}))
	assert.Error(t, HeatMaps(filepath.Join(dir, "a.png"), Panels{Title: "x", Cols: 2}, nil))
	assert.Error(t, HeatMaps(filepath.Join(dir, "a.png"), Panels{Title: "x"}, []Grid{{Values: [][]float64{{1}}}}))
	_, err := os.Stat(filepath.Join(dir, "a.png"))
	assert.True(t, os.IsNotExist(err), "no file is written for bad input")
}

// A series marked Points is drawn as its points alone: between two far-apart evaluations no
// line is drawn (fewer pixels of its colour than the same series joined).
func TestPointsAreNotJoined(t *testing.T) {
	dir := t.TempDir()
	draw := func(name string, points bool) int {
		path := filepath.Join(dir, name)
		require.NoError(t, Lines(path, Labels{Title: "Evaluations", X: "iteration", Y: "loss"},
			Series{Name: "val", X: []float64{0, 200}, Y: []float64{4.2, 2.5}, Points: points}))
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		img, err := png.Decode(f)
		require.NoError(t, err)
		want := palette10[0]
		n := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if absDiff(r>>8, uint32(want.R)) < 24 && absDiff(g>>8, uint32(want.G)) < 24 && absDiff(bl>>8, uint32(want.B)) < 24 {
					n++
				}
			}
		}
		return n
	}
	joined, alone := draw("joined.png", false), draw("alone.png", true)
	assert.Greater(t, alone, 50, "the two points are drawn")
	assert.Greater(t, joined, 3*alone, "the joined series has a line across the plot")
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
