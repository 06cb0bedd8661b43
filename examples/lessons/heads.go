package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/goformer/goformer/examples/internal/plots"
)

// headsPrompt is the text whose attention step 8 draws.
const headsPrompt = "ROMEO:\nWhat light through yonder"

// headHabit is one thing a head may look at: a rule that picks, for position i of a text, the
// position it names (or −1 where there is none).
type headHabit struct {
	name, short string
	at          func(text []string, i int) int
}

// lastOf returns the position of the last of chars before i, or −1.
func lastOf(text []string, i int, chars string) int {
	for j := i - 1; j >= 0; j-- {
		if strings.Contains(chars, text[j]) {
			return j
		}
	}
	return -1
}

var headHabits = []headHabit{
	{"itself", "itself", func(_ []string, i int) int { return i }},
	{"the previous character", "previous", func(_ []string, i int) int { return i - 1 }},
	{"the character two back", "two back", func(_ []string, i int) int { return i - 2 }},
	{"the space before the word", "word start", func(text []string, i int) int { return lastOf(text, i, " ") }},
	{"the start of the line", "line start", func(text []string, i int) int { return lastOf(text, i, "\n") }},
}

// habits returns, for one head's attention weights over text (T × T), the average weight each
// habit's position gets, over the positions where the habit names one.
func habits(w [][]float32, text []string) []float64 {
	out := make([]float64, len(headHabits))
	for h, hb := range headHabits {
		sum, n := 0.0, 0
		for i := 1; i < len(text); i++ { // position 0 can only look at itself
			if j := hb.at(text, i); j >= 0 {
				sum += float64(w[i][j])
				n++
			}
		}
		if n > 0 {
			out[h] = sum / float64(n)
		}
	}
	return out
}

// headsLesson: the heads of a trained model look at different things.
func headsLesson(ctx context.Context, e *env) error {
	e.para(`A GPT does not have one attention (step 6) per layer but several side by side: the heads.
		Each has its own query, key and value weights and works on a slice of the vector (here 64
		numbers split into 4 heads of 16). Their outputs are put side by side and mixed by one more
		weight matrix. Since each head can look somewhere else, a layer can gather several kinds of
		information at once; training makes them specialise.`)
	e.printf("Code: nn/attention.go (Attention: the heads, in one fused projection), model/inspect.go (Inspect: every head's weights).\n\n")

	cm, err := shakespeareModel(ctx, e)
	if err != nil {
		return err
	}
	// The habits are measured on stretches of text the model did not train on.
	t := cm.m.Config.BlockSize
	windows := 8
	if e.tiny {
		windows = 2
	}
	nl, nh := cm.m.Config.NLayer, cm.m.Config.NHead
	avg := make([][][]float64, nl)
	for l := range avg {
		avg[l] = make([][]float64, nh)
		for h := range avg[l] {
			avg[l][h] = make([]float64, len(headHabits))
		}
	}
	for k := range windows {
		sample := cm.val[k*t : (k+1)*t]
		in, err := cm.m.Inspect(sample)
		if err != nil {
			return err
		}
		chars := make([]string, len(sample))
		for i, id := range sample {
			chars[i] = cm.char(id)
		}
		for l, layer := range in.Attention {
			for h, w := range layer {
				for k, x := range habits(w, chars) {
					avg[l][h][k] += x / float64(windows)
				}
			}
		}
	}
	e.printf("Where each head looks: the average weight it gives to each kind of earlier position, over %d\ncharacters of text it did not train on (the rest of its attention is spread elsewhere):\n", windows*t)
	e.printf("  %-14s", "")
	for _, hb := range headHabits {
		e.printf(" %10s", hb.short)
	}
	e.printf("   mostly on\n")
	for l := range avg {
		for h, hs := range avg[l] {
			e.printf("  layer %d head %d", l+1, h+1)
			for _, x := range hs {
				e.printf(" %9.0f%%", 100*x)
			}
			best := slices.Index(hs, slices.Max(hs))
			e.printf("   %s\n", headHabits[best].name)
		}
	}
	e.printf("\n")
	e.para(`Nobody told the heads what to look at: each settled on what helped it guess the next
		character. Typically some first-layer heads look one or two characters back (to see which
		letters come before), one watches the start of the line or the word, and later layers spread
		their attention more widely, combining what the first layer gathered. The pictures show it
		for one line of text: a dark square in row i, column j means that character i looks hard at
		character j.`)

	ids, err := cm.tok.EncodeStrict(headsPrompt)
	if err != nil {
		return err
	}
	in, err := cm.m.Inspect(ids)
	if err != nil {
		return err
	}
	labels := charLabels(cm.tok, ids)
	for l, layer := range in.Attention {
		path := e.picture(fmt.Sprintf("heads-layer%d.png", l+1))
		if path == "" {
			break
		}
		var grids []plots.Grid
		for h, w := range layer {
			g := plots.Grid{Title: fmt.Sprintf("head %d", h+1), X: "looks at", Y: "character", Rows: labels, Cols: labels, Max: 1}
			for _, r := range w {
				g.Values = append(g.Values, toFloat64(r))
			}
			grids = append(grids, g)
		}
		title := fmt.Sprintf("Layer %d of a GPT trained on Shakespeare: each head's attention (· is a space, ¶ a new line)", l+1)
		if err := plots.HeatMaps(path, plots.Panels{Title: title, Cols: 2}, grids); err != nil {
			return err
		}
		e.drew(path, fmt.Sprintf("layer %d's %d heads on %q", l+1, len(layer), headsPrompt))
	}
	return nil
}

// toFloat64 converts a row of weights for a picture.
func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
