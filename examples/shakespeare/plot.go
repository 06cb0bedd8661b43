package main

import (
	"errors"

	"github.com/goformer/goformer/examples/internal/plots"
)

// minEvalLine is how many evaluations it takes for the plot to join them with a line.
const minEvalLine = 5

// plotLosses draws the run's losses against the iteration into a PNG file: the loss of every
// training batch, and the train and val losses of every evaluation.
func plotLosses(path string, tr *trainer) error {
	if len(tr.iterLosses) == 0 && len(tr.evals) == 0 {
		return errors.New("-plot: no iterations or evaluations to draw")
	}
	var batch, train, val plots.Series
	batch.Name, train.Name, val.Name = "training batch", "train (evaluation)", "val (evaluation)"
	for _, l := range tr.iterLosses {
		batch.X, batch.Y = append(batch.X, float64(l.it)), append(batch.Y, float64(l.loss))
	}
	for _, e := range tr.evals {
		train.X, train.Y = append(train.X, float64(e.it)), append(train.Y, e.Train)
		val.X, val.Y = append(val.X, float64(e.it)), append(val.Y, e.Val)
	}
	// a handful of evaluations are drawn as points: a line between two of them would be a
	// trend nobody measured
	train.Points, val.Points = len(tr.evals) < minEvalLine, len(tr.evals) < minEvalLine
	return plots.Lines(path, plots.Labels{Title: "Training loss and validation loss", X: "iteration", Y: "loss (cross-entropy)"},
		batch, train, val)
}
