package dates

import (
	"context"
	"errors"
	"fmt"

	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tensor"
)

// Alignment is one translation and the cross-attention the decoder paid while writing it.
type Alignment struct {
	Src []int            // the source ids
	Hyp model.Hypothesis // the translation
	// Rows are the tokens the rows of Cross wrote: Hyp.Tokens, then EOS when the translation
	// ended. Row t is the decoder at position t (BOS, then Rows[:t]) choosing Rows[t].
	Rows []int
	// Cross holds every decoder layer's cross-attention weights, (NH, len(Rows), len(Src)):
	// how much each head, writing each output token, looked at each source token. Each row sums
	// to 1.
	Cross []*tensor.Tensor
}

// AlignIDs translates src with d (greedily, or with a beam) and returns the cross-attention
// behind the translation (model.Transformer.CrossAttention on the decoded tokens).
func AlignIDs(ctx context.Context, m *model.Transformer, src []int, d model.Decoding) (*Alignment, error) {
	hyps, err := m.Translate(ctx, [][]int{src}, d)
	if err != nil {
		return nil, err
	}
	h := hyps[0]
	rows := append([]int(nil), h.Tokens...)
	if h.Ended {
		rows = append(rows, m.Config.EosID)
	}
	if len(rows) == 0 {
		return nil, errors.New("dates: nothing was decoded (MaxNew 0)")
	}
	tgtIn := append([]int{m.Config.BosID}, rows[:len(rows)-1]...) // position t chooses rows[t]
	cross, err := m.CrossAttention(src, tgtIn)
	if err != nil {
		return nil, err
	}
	return &Alignment{Src: src, Hyp: h, Rows: rows, Cross: cross}, nil
}

// Align translates text greedily and returns the cross-attention behind the translation.
func Align(ctx context.Context, m *model.Transformer, v *Vocab, text string) (*Alignment, error) {
	src, err := v.Encode(text)
	if err != nil {
		return nil, err
	}
	return AlignIDs(ctx, m, src, model.Decoding{MaxNew: 16})
}

// Plot draws layer's cross-attention (0 is the first decoder layer), one panel per head,
// source tokens across and output tokens down, into a PNG file at path.
func (a *Alignment) Plot(path string, v *Vocab, layer int, title string) error {
	if layer < 0 || layer >= len(a.Cross) {
		return fmt.Errorf("dates: no decoder layer %d to plot (%d layers)", layer, len(a.Cross))
	}
	w := a.Cross[layer] // (NH, Tt, Ts)
	src, out := v.Tokens(a.Src), v.Tokens(a.Rows)
	var grids []plots.Grid
	for h := range w.Dim(0) {
		g := plots.Grid{Title: fmt.Sprintf("head %d", h+1), X: "source token", Y: "output token",
			Rows: out, Cols: src, Min: 0, Max: 1}
		for t := range w.Dim(1) {
			row := make([]float64, w.Dim(2))
			for s := range row {
				row[s] = float64(w.At(h, t, s))
			}
			g.Values = append(g.Values, row)
		}
		grids = append(grids, g)
	}
	return plots.HeatMaps(path, plots.Panels{
		Title:    title,
		Subtitle: "each row: where the decoder looked in the source while writing that output token",
		Cols:     min(len(grids), 4),
		Side:     5.5,
	}, grids)
}
