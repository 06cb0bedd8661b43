package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// The leaf-or-flower network: 4 inputs (red, green, blue, volume, each scaled to about 0..1),
// 3 hidden neurons with ReLU, 2 outputs (a leaf score and a flower score).
const (
	colourScale = 255 // colours are 0..255
	volumeScale = 20  // volumes are a few cm³
)

// numbersLR is the learning rate of step 1's gradient descent: how far each step moves.
const numbersLR = 0.5

// handWeights are the network's made-up starting weights, rounded to hand-sized numbers, by
// parameter name. Biases start at 0.
var handWeights = map[string][]float32{
	"hidden.weight": { // (3, 4): one row per hidden neuron, one column per input
		0.1, 0.5, -0.2, 0.3,
		0.6, -0.4, 0.2, -0.1,
		-0.3, 0.2, 0.4, 0.1,
	},
	"hidden.bias": {0, 0, 0},
	"out.weight": { // (2, 3): leaf, flower
		0.8, -0.3, 0.1,
		-0.2, 0.7, 0.3,
	},
	"out.bias": {0, 0},
}

// leafNet is the tiny network of step 1, built from nn layers.
type leafNet struct {
	hidden, out *nn.Linear
	params      []*autograd.Var
}

// newLeafNet builds the network with handWeights: its description asks a Builder for each
// parameter, and the Source answers from the table.
func newLeafNet() *leafNet {
	b := nn.NewBuilder(func(s nn.Spec) (*autograd.Var, error) {
		v, ok := handWeights[s.Name]
		if !ok {
			return nil, fmt.Errorf("no weights for %s", s.Name)
		}
		return autograd.NamedParam(s.Name, tensor.FromSlice(append([]float32(nil), v...), s.Shape...)), nil
	}, nil)
	n := &leafNet{
		hidden: nn.NewLinear(b.Sub("hidden"), 4, 3, true, 0),
		out:    nn.NewLinear(b.Sub("out"), 3, 2, true, 0),
	}
	if err := b.Err(); err != nil {
		panic(err) // handWeights covers the description
	}
	n.params = b.Params()
	return n
}

// forward maps inputs (N, 4) to the hidden neurons (N, 3) and the scores (N, 2).
func (n *leafNet) forward(x *autograd.Var) (hidden, scores *autograd.Var) {
	hidden = autograd.ReLU(n.hidden.Forward(x))
	return hidden, n.out.Forward(hidden)
}

// specimen is one thing the network is shown: its readings and what it really is.
type specimen struct {
	r, g, b, vol float64
	flower       bool
}

func (s specimen) scaled() []float32 {
	return []float32{float32(s.r / colourScale), float32(s.g / colourScale), float32(s.b / colourScale), float32(s.vol / volumeScale)}
}

// specimens draws n leaves and n flowers: green and autumn leaves; red, purple and yellow
// flowers, smaller than leaves.
func specimens(rng *rand.Rand, n int) []specimen {
	kinds := []struct {
		r, g, b, vol float64
		flower       bool
	}{
		{40, 120, 50, 11, false},  // green leaf
		{200, 110, 40, 11, false}, // autumn leaf
		{210, 50, 90, 4, true},    // red flower
		{130, 50, 180, 4, true},   // purple flower
		{230, 200, 40, 4, true},   // yellow flower
	}
	around := func(v, spread, hi float64) float64 {
		return min(hi, max(0, v+spread*rng.NormFloat64()))
	}
	var out []specimen
	for i := range 2 * n {
		var k = kinds[rng.IntN(2)]
		if i%2 == 1 {
			k = kinds[2+rng.IntN(3)]
		}
		out = append(out, specimen{
			r: around(k.r, 20, 255), g: around(k.g, 20, 255), b: around(k.b, 20, 255),
			vol: around(k.vol, 1.5, 20), flower: k.flower,
		})
	}
	return out
}

// batchOf returns the scaled readings (N, 4) and the classes (0 leaf, 1 flower) of specimens.
func batchOf(ss []specimen) (*autograd.Var, []int) {
	x := make([]float32, 0, 4*len(ss))
	y := make([]int, len(ss))
	for i, s := range ss {
		x = append(x, s.scaled()...)
		if s.flower {
			y[i] = 1
		}
	}
	return autograd.Const(tensor.FromSlice(x, len(ss), 4)), y
}

// accuracy returns the share of specimens the network gets right.
func (n *leafNet) accuracy(ss []specimen) float64 {
	x, y := batchOf(ss)
	_, scores := n.forward(x)
	right := 0
	for i := range ss {
		if (scores.Value.At(i, 1) > scores.Value.At(i, 0)) == (y[i] == 1) {
			right++
		}
	}
	return float64(right) / float64(len(ss))
}

// train runs steps of gradient descent on the specimens (all of them at every step) and returns
// the loss before each step and after the last (steps+1 values). report, when not nil, is called
// with each of them.
func (n *leafNet) train(ctx context.Context, data []specimen, steps int, report func(step int, loss float64)) ([]float64, error) {
	x, y := batchOf(data)
	opt := optim.NewSGD(n.params, optim.SGDConfig{LR: numbersLR})
	losses := make([]float64, 0, steps+1)
	for step := 0; ; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_, scores := n.forward(x)
		loss := autograd.CrossEntropy(scores, y, -1) // the leaf-or-flower guess's penalty (step 3)
		losses = append(losses, float64(loss.Item()))
		if report != nil {
			report(step, losses[step])
		}
		if step == steps {
			return losses, nil
		}
		loss.Backward() // the gradient of every weight
		opt.Step()      // weight −= rate × gradient
		opt.ZeroGrad()
	}
}

// numbersLesson: a network only handles numbers.
func numbersLesson(ctx context.Context, e *env) error {
	e.para(`A neural network only handles numbers: numbers go in, it multiplies them by its weights and
		adds them up, and numbers come out. To tell a leaf from a flower we give it four numbers for
		each: how red, green and blue it is (0 to 255) and its volume in cm³. We divide the colours by
		255 and the volume by 20, so that all four are between 0 and 1.`)
	e.para(`This network has 3 hidden neurons and 2 output neurons. Each neuron multiplies every input by
		a weight and adds the products up, plus a bias. A hidden neuron whose sum is below 0 gives 0
		instead (that is ReLU: without it, the two layers would be no better than one). The output
		neurons score "leaf" and "flower"; the higher score is the network's answer.`)
	e.printf("Code: nn/layers.go (Linear: the weighted sums), autograd/ops_unary.go (ReLU), nn/build.go (the Builder hands each layer its weights).\n\n")

	n := newLeafNet()
	inputs := []string{"red", "green", "blue", "volume"}
	e.printf("The weights we start from (made up):\n")
	for i := range 3 {
		e.printf("  hidden %d: %s, bias %s\n", i+1, weightList(n.hidden.Weight, i, inputs), num(n.hidden.Bias.Value.At(i)))
	}
	for i, name := range []string{"leaf", "flower"} {
		e.printf("  %-8s: %s, bias %s\n", name, weightList(n.out.Weight, i, []string{"h1", "h2", "h3"}), num(n.out.Bias.Value.At(i)))
	}
	e.printf("\n")

	if path := e.picture("numbers-network.png"); path != "" {
		if err := drawNetwork(path, n, "Step 1's network with the made-up weights: blue lines add, red subtract, thicker weigh more"); err != nil {
			return err
		}
		e.drew(path, "the network: 4 inputs, 3 hidden neurons, 2 outputs, and a line for each of its 18 weights")
	}

	yellow := specimen{230, 200, 40, 3.5, true}
	for _, s := range []specimen{{32, 107, 56, 11.2, false}, {200, 40, 120, 4.5, true}, yellow} {
		showByHand(e, n, s)
	}

	// Training: show it many leaves and flowers, penalise wrong answers, and nudge the weights.
	rng := rand.New(rand.NewPCG(e.seed, 2))
	data := specimens(rng, 30)
	steps := 300
	if e.tiny {
		steps = 150
	}
	e.para(fmt.Sprintf(`The made-up weights get the first two right but call the yellow flower a leaf. Over %d
		leaves and flowers (green and autumn leaves; red, purple and yellow flowers, which are
		smaller) they get %.0f%% right. Training fixes that. We measure how wrong the network is with
		one number, the loss (step 3 explains it; it is small when the right answer gets the higher
		score by a wide margin), and work out, for every weight, which way a small change would
		lower it: that is the gradient, and autograd computes it by going back through the sums.
		Gradient descent then moves every weight a little that way, over and over.`, len(data), 100*n.accuracy(data)))
	e.printf("Code: autograd/var.go (Backward: the gradients), autograd/ops_nn.go (CrossEntropy: the loss), optim/sgd.go (the nudge: weight −= rate × gradient).\n\n")

	watch := []struct {
		label string
		v     *autograd.Var
		i, j  int
	}{
		{"hidden 1, weight of green", n.hidden.Weight, 0, 1},
		{"hidden 2, weight of volume", n.hidden.Weight, 1, 3},
		{"hidden 3, weight of volume", n.hidden.Weight, 2, 3},
		{"flower, weight of h2", n.out.Weight, 1, 1},
	}
	measureOneStep(n, data, n.out.Weight, 1, 1, watch[3].label).show(e, len(data))
	startW := make([]float32, len(watch))
	for k, w := range watch {
		startW[k] = w.v.Value.At(w.i, w.j)
	}
	before := n.accuracy(data)
	losses, err := n.train(ctx, data, steps, func(step int, loss float64) {
		if step%(steps/6) == 0 {
			e.printf("  after %3d steps: loss %.3f, %3.0f%% right\n", step, loss, 100*n.accuracy(data))
		}
	})
	if err != nil {
		return err
	}
	e.printf("\nRight before training: %.0f%%; after: %.0f%%. Some weights, before → after:\n", 100*before, 100*n.accuracy(data))
	for k, w := range watch {
		e.printf("  %-28s %6s → %6s\n", w.label, num(startW[k]), num(w.v.Value.At(w.i, w.j)))
	}
	e.printf("\nThe yellow flower again, with the trained weights:\n")
	showByHand(e, n, yellow)

	if path := e.picture("numbers-loss.png"); path != "" {
		xs, ys := seriesOf(losses)
		for i := range xs {
			xs[i]-- // losses[0] is before the first step
		}
		if err := plots.Lines(path, plots.Labels{Title: "Leaf or flower: the loss falls as the weights move", X: "gradient-descent step", Y: "loss"},
			plots.Series{Name: "loss", X: xs, Y: ys}); err != nil {
			return err
		}
		e.drew(path, "the loss at every step")
	}
	return nil
}

// weightList writes row i of a weight matrix as "0.10×red + 0.50×green − 0.20×blue ...".
func weightList(w *autograd.Var, i int, names []string) string {
	var b strings.Builder
	for j, name := range names {
		term(&b, j == 0, float64(w.Value.At(i, j)), name)
	}
	return b.String()
}

// term appends "w×x" to a sum being written out, as "+ w×x" or "− |w|×x" after the first.
func term(b *strings.Builder, first bool, w float64, x string) {
	switch {
	case first:
		fmt.Fprintf(b, "%s×%s", num(w), x)
	case w < 0:
		fmt.Fprintf(b, " − %.2f×%s", -w, x)
	default:
		fmt.Fprintf(b, " + %.2f×%s", w, x)
	}
}

// num writes x with two decimals and a real minus sign.
func num[F float32 | float64](x F) string {
	s := fmt.Sprintf("%.2f", x)
	switch {
	case s == "-0.00":
		return "0.00"
	case strings.HasPrefix(s, "-"):
		return "−" + s[1:]
	}
	return s
}

// plusBias writes "+ b" or "− |b|".
func plusBias(b float32) string {
	if b < 0 {
		return fmt.Sprintf(" − %.2f", -b)
	}
	return fmt.Sprintf(" + %.2f", b)
}

// showByHand prints the sums every neuron computes for one specimen, as one would by hand, and
// the network's answer (which the network computed itself).
func showByHand(e *env, n *leafNet, s specimen) {
	in := s.scaled()
	what := "leaf"
	if s.flower {
		what = "flower"
	}
	e.printf("A %s: red %.0f, green %.0f, blue %.0f, volume %.1f → inputs %.2f, %.2f, %.2f, %.2f\n", what, s.r, s.g, s.b, s.vol, in[0], in[1], in[2], in[3])
	hidden, scores := n.forward(autograd.Const(tensor.FromSlice(in, 1, 4)))
	h := make([]float32, 3)
	for i := range 3 {
		var b strings.Builder
		pre := n.hidden.Bias.Value.At(i)
		for j := range 4 {
			term(&b, j == 0, float64(n.hidden.Weight.Value.At(i, j)), fmt.Sprintf("%.2f", in[j]))
			pre += n.hidden.Weight.Value.At(i, j) * in[j]
		}
		h[i] = hidden.Value.At(0, i) // the network's own sum, after ReLU
		if pre < 0 {
			e.printf("  h%d = %s%s = %s: below 0, so h%d = %.0f\n", i+1, b.String(), plusBias(n.hidden.Bias.Value.At(i)), num(pre), i+1, h[i])
		} else {
			e.printf("  h%d = %s%s = %.2f\n", i+1, b.String(), plusBias(n.hidden.Bias.Value.At(i)), h[i])
		}
	}
	for i, name := range []string{"leaf", "flower"} {
		var b strings.Builder
		for j := range 3 {
			term(&b, j == 0, float64(n.out.Weight.Value.At(i, j)), fmt.Sprintf("%.2f", h[j]))
		}
		e.printf("  %-6s = %s%s = %s\n", name, b.String(), plusBias(n.out.Bias.Value.At(i)), num(scores.Value.At(0, i)))
	}
	answer := "leaf"
	if scores.Value.At(0, 1) > scores.Value.At(0, 0) {
		answer = "flower"
	}
	verdict := "right"
	if answer != what {
		verdict = "wrong"
	}
	e.printf("  answer: %s (%s)\n\n", answer, verdict)
}
