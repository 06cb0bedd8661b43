package main

import (
	"context"
	"fmt"
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
	// The table is measured on the line the pictures draw, from the very weights they draw, so
	// that what it says can be seen in them.
	ids, err := cm.tok.EncodeStrict(headsPrompt)
	if err != nil {
		return err
	}
	in, err := cm.m.Inspect(ids)
	if err != nil {
		return err
	}
	chars := make([]string, len(ids))
	for i, id := range ids {
		chars[i] = cm.char(id)
	}
	e.printf("Where each head looks on the line the pictures below draw, %q: the average weight it\ngives to each kind of earlier position, and the character it watches most (the average weight of\nits column in the picture, over the rows that see it; columns seen by fewer than %d rows left out).\n\"mostly\" means half or more, \"leans to\" a quarter or more:\n", headsPrompt, minColumnRows)
	e.printf("  %-14s", "")
	for _, hb := range headHabits {
		e.printf(" %10s", hb.short)
	}
	e.printf(" %16s   in words\n", "most watched")
	for l, layer := range in.Attention {
		for h, w := range layer {
			hs := habits(w, chars)
			col, share := watchedColumn(w)
			e.printf("  layer %d head %d", l+1, h+1)
			for _, x := range hs {
				e.printf(" %9.0f%%", 100*x)
			}
			e.printf(" %8s %4.0f%%   %s\n", fmt.Sprintf("%q@%d", chars[col], col+1), 100*share, headVerdict(hs, chars[col], col, share))
		}
	}
	e.printf("\n")
	e.para(`Nobody told the heads what to look at: each settled on what helped it guess the next
		character. A share near 100% is a head that does one thing; a few percent everywhere is a head
		whose attention is spread over the whole line. In the pictures, a dark square in row i,
		column j means that character i looks hard at character j; a dark column is a character that
		every later one watches.`)

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

// minColumnRows is how many rows must see a column for it to count as watched.
const minColumnRows = 8

// watchedColumn returns the column of a causal attention map (T × T) with the largest average
// weight over the rows that can see it (rows j to T−1), and that average: a dark column in the
// picture. The first columns, which fewer rows see, are not favoured: it is an average.
func watchedColumn(w [][]float32) (int, float64) {
	best, bestShare := 0, -1.0
	for j := range len(w) - min(minColumnRows, len(w)) + 1 { // a column a few rows see says little
		sum := 0.0
		for i := j; i < len(w); i++ {
			sum += float64(w[i][j])
		}
		if share := sum / float64(len(w)-j); share > bestShare {
			best, bestShare = j, share
		}
	}
	return best, bestShare
}

// headVerdict says in words what a head's row of the table shows, claiming "mostly" only for
// a majority of the weight.
func headVerdict(hs []float64, char string, col int, share float64) string {
	top := 0
	for k, x := range hs {
		if x > hs[top] {
			top = k
		}
	}
	switch {
	case hs[top] >= 0.5:
		return "mostly " + headHabits[top].name
	case share >= 0.5:
		return fmt.Sprintf("mostly the %q at %d", char, col+1)
	case hs[top] >= 0.25 && hs[top] >= share:
		return fmt.Sprintf("leans to %s", headHabits[top].name)
	case share >= 0.25:
		return fmt.Sprintf("leans to the %q at %d", char, col+1)
	}
	return "spread out"
}
