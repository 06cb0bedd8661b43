package main

import (
	"fmt"

	"github.com/goformer/goformer/autograd"
)

// oneStep is step 1's gradient with numbers: for one weight, the loss before, the gradient
// autograd computes and the same slope measured by nudging the weight (finite differences),
// the update with the learning rate, and the loss after. It leaves the network's weights as
// it found them, so the training that follows starts from the same place.
type oneStep struct {
	label                   string
	weight                  float64 // before the step
	lossBefore              float64
	grad                    float64 // autograd's
	nudge                   float64 // the finite difference's step
	lossPlus, lossMinus     float64 // the loss with the weight nudged up and down
	slope                   float64 // (lossPlus − lossMinus) / (2 nudge)
	updated                 float64 // weight − rate × grad
	lossAfterOne, lossAfter float64 // after moving this weight alone, and every weight
}

// measureOneStep works out oneStep for weight (i, j) of w, over data.
func measureOneStep(n *leafNet, data []specimen, w *autograd.Var, i, j int, label string) oneStep {
	x, y := batchOf(data)
	loss := func() float64 {
		_, scores := n.forward(x)
		return float64(autograd.CrossEntropy(scores, y, -1).Item())
	}
	saved := make([][]float32, len(n.params))
	for k, p := range n.params {
		saved[k] = append([]float32(nil), p.Value.Data()...)
	}
	defer func() {
		for k, p := range n.params {
			copy(p.Value.Data(), saved[k])
			p.ZeroGrad()
		}
	}()
	idx := i*w.Value.Shape()[1] + j
	set := func(v float64) { w.Value.Data()[idx] = float32(v) }
	s := oneStep{label: label, weight: float64(w.Value.Data()[idx]), nudge: 0.01}

	_, scores := n.forward(x)
	l := autograd.CrossEntropy(scores, y, -1)
	s.lossBefore = float64(l.Item())
	l.Backward()
	s.grad = float64(w.Grad().Data()[idx])

	set(s.weight + s.nudge)
	s.lossPlus = loss()
	set(s.weight - s.nudge)
	s.lossMinus = loss()
	s.slope = (s.lossPlus - s.lossMinus) / (2 * s.nudge)

	s.updated = s.weight - numbersLR*s.grad
	set(s.updated)
	s.lossAfterOne = loss()

	// every weight moves at once, each by −rate × its own gradient: one step of the training
	set(s.weight)
	for _, p := range n.params {
		g, v := p.Grad().Data(), p.Value.Data()
		for k := range v {
			v[k] -= float32(numbersLR) * g[k]
		}
	}
	s.lossAfter = loss()
	return s
}

// show prints the step for a reader.
func (s oneStep) show(e *env, count int) {
	e.printf("One step of gradient descent, with numbers, for the weight %q (now %.4f):\n", s.label, s.weight)
	e.printf("  loss over the %d specimens: %.5f\n", count, s.lossBefore)
	e.printf("  gradient (autograd, going back through the sums): %s\n", signed(s.grad))
	e.printf("  check by nudging the weight ±%.2f: loss %.5f and %.5f, slope (%.5f − %.5f) / %.2f = %s\n",
		s.nudge, s.lossPlus, s.lossMinus, s.lossPlus, s.lossMinus, 2*s.nudge, signed(s.slope))
	e.printf("  update: %.4f − %.1f (learning rate) × %s = %.4f\n", s.weight, numbersLR, signed(s.grad), s.updated)
	e.printf("  loss after moving this weight alone: %.5f (%s)\n", s.lossAfterOne, signed(s.lossAfterOne-s.lossBefore))
	e.printf("  loss after moving every weight, each by −rate × its own gradient (one training step): %.5f\n\n", s.lossAfter)
	way := "negative here: a bigger weight lowers the loss, so the update makes it bigger"
	if s.grad > 0 {
		way = "positive here: a smaller weight lowers the loss, so the update makes it smaller"
	}
	e.para(`The gradient says how steeply the loss rises as the weight grows: ` + way + `. Nudging the
		weight by hand and measuring the loss gives the same slope: that is how autograd's answer is
		checked. Training repeats this step, for every weight at once, over and over:`)
}

// signed writes x with five decimals, its sign always shown, and a real minus sign.
func signed(x float64) string {
	s := fmt.Sprintf("%+.5f", x)
	if s[0] == '-' {
		return "−" + s[1:]
	}
	return s
}
