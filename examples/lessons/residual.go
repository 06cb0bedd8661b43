package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/examples/internal/plots"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
	"github.com/goformer/goformer/tokenizer"
)

// deepNet is a deep stack of transformer blocks (nn.Block) over character embeddings, run with
// or without the blocks' residual connections: the same layers and the same starting weights
// either way.
type deepNet struct {
	wte, wpe *nn.Embedding
	blocks   []*nn.Block
	lnf      *nn.LayerNorm
	params   []*autograd.Var
	residual bool
}

// deepSize sizes step 7's stacks.
type deepSize struct {
	layers, width, block, batch, steps int
	lr                                 float32
}

// newDeepNet builds the stack with weights drawn from seed: two calls with the same seed get
// the same weights.
func newDeepNet(seed uint64, vocab int, s deepSize, residual bool) *deepNet {
	b := nn.NewBuilder(nn.Random(rand.New(rand.NewPCG(seed, 7))), nil)
	d := &deepNet{
		wte:      nn.NewEmbedding(b.Sub("wte"), vocab, s.width, 0.02),
		wpe:      nn.NewEmbedding(b.Sub("wpe"), s.block, s.width, 0.02),
		residual: residual,
	}
	for i := range s.layers {
		d.blocks = append(d.blocks, nn.NewBlock(b.Subf("h.%d", i), nn.BlockConfig{
			NEmbd: s.width, NHead: 4, NLayer: s.layers, Bias: true, LayerNormEps: 1e-5,
		}))
	}
	d.lnf = nn.NewLayerNorm(b.Sub("ln_f"), s.width, true, 1e-5)
	if err := b.Err(); err != nil {
		panic(err)
	}
	d.params = b.Params()
	return d
}

// loss is the next-character loss of a batch: embeddings, the blocks (with or without the
// residual connections), a final layer norm, and scores against every character's embedding.
func (d *deepNet) loss(x, y []int, b, t int) *autograd.Var {
	pos := make([]int, t)
	for i := range pos {
		pos[i] = i
	}
	h := autograd.Add(d.wte.Forward(x, b, t), d.wpe.Forward(pos, 1, t)) // (B, T, C)
	for _, blk := range d.blocks {
		if d.residual {
			h = blk.Forward(h, nn.BlockInput{}) // h + attn(ln_1(h)), then h + mlp(ln_2(h))
		} else {
			h = blk.Attn.Forward(blk.AttnNorm.Forward(h), nn.AttnInput{}) // attn(ln_1(h)): the input is not added back
			h = blk.FF.Forward(blk.FFNorm.Forward(h))
		}
	}
	logits := autograd.MatMulT(d.lnf.Forward(h), d.wte.Weight) // (B, T, V)
	return autograd.CrossEntropy(logits, y, -1)
}

// trainDeep trains d on windows of ids and returns the loss of every step.
func trainDeep(ctx context.Context, d *deepNet, ids []int, s deepSize, seed uint64) ([]float64, error) {
	rng := rand.New(rand.NewPCG(seed, 8)) // both stacks see the same batches
	opt := optim.NewAdamW(d.params, optim.AdamWConfig{LR: s.lr, Betas: [2]float32{0.9, 0.99}})
	x, y := make([]int, 0, s.batch*s.block), make([]int, 0, s.batch*s.block)
	var losses []float64
	for range s.steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x, y = x[:0], y[:0]
		for range s.batch {
			i := rng.IntN(len(ids) - s.block)
			x = append(x, ids[i:i+s.block]...)
			y = append(y, ids[i+1:i+1+s.block]...)
		}
		loss := d.loss(x, y, s.batch, s.block)
		loss.Backward()
		optim.ClipGradNorm(d.params, 1)
		opt.Step()
		opt.ZeroGrad()
		losses = append(losses, float64(loss.Item()))
		autograd.Release(loss)
	}
	return losses, nil
}

// residualRun is the outcome of step 7's comparison.
type residualRun struct {
	plain, residual []float64 // loss per step
}

// compareResidual trains the stack without and with residual connections, from the same weights
// on the same batches.
func compareResidual(ctx context.Context, e *env, s deepSize) (residualRun, error) {
	tok := tokenizer.NewChar(shakespeare)
	ids := tok.Encode(shakespeare[:len(shakespeare)*9/10])
	var r residualRun
	for _, residual := range []bool{false, true} {
		start := time.Now()
		d := newDeepNet(e.seed, tok.VocabSize(), s, residual)
		losses, err := trainDeep(ctx, d, ids, s, e.seed)
		if err != nil {
			return r, err
		}
		name := "without"
		if residual {
			name, r.residual = "with   ", losses
		} else {
			r.plain = losses
		}
		e.printf("  %s: loss %.3f at the start, %.3f at the end (%.1f s)\n",
			name, losses[0], tailMean(losses, 20), time.Since(start).Seconds())
	}
	return r, nil
}

// unigramLoss is the loss of always guessing each character with its frequency in text: the
// entropy of the character counts, in nats.
func unigramLoss(text string) float64 {
	counts := map[rune]float64{}
	n := 0.0
	for _, r := range text {
		counts[r]++
		n++
	}
	h := 0.0
	for _, c := range counts {
		h -= c / n * math.Log(c/n)
	}
	return h
}

// tailMean is the mean of the last n values.
func tailMean(v []float64, n int) float64 {
	n = min(n, len(v))
	sum := 0.0
	for _, x := range v[len(v)-n:] {
		sum += x
	}
	return sum / float64(n)
}

// residualLesson: why deep stacks need residual connections; layer norm and dropout.
func residualLesson(ctx context.Context, e *env) error {
	e.para(`A GPT stacks many blocks of attention and computation, each working on the output of the one
		before. Deep stacks are hard to train: the signal that tells the first layers how to change
		(the gradient) has to pass back through every layer above, and it fades or scrambles on the
		way. A residual connection adds each block's input back to its output, x + block(x), so every
		block only learns a correction, and the gradient has a straight road back down: the + passes
		it through unchanged.`)
	e.printf("Code: nn/attention.go (Block.Forward: x + attn(ln_1(x)), then x + mlp(ln_2(x))), nn/layers.go (LayerNorm, Dropout).\n\n")

	s := deepSize{layers: 12, width: 32, block: 32, batch: 8, steps: 300, lr: 2e-3}
	if e.tiny {
		s = deepSize{layers: 8, width: 16, block: 16, batch: 8, steps: 60, lr: 1e-2}
	}
	e.para(fmt.Sprintf(`The same stack of %d blocks (%d wide), trained twice on Tiny Shakespeare for %d steps,
		from the same starting weights on the same batches: first without the residual connections,
		then with them.`, s.layers, s.width, s.steps))
	r, err := compareResidual(ctx, e, s)
	if err != nil {
		return err
	}
	e.printf("  (the loss at the end is the average of the last 20 steps)\n\n")
	e.para(fmt.Sprintf(`Guessing from how common each character is, and nothing else, gives a loss of %.2f.
		Without the residual connections the deep stack gets little further than that; with them,
		the same layers learn much more in the same steps.`, unigramLoss(shakespeare)))

	if path := e.picture("residual.png"); path != "" {
		x1, y1 := seriesOf(r.plain)
		x2, y2 := seriesOf(r.residual)
		if err := plots.Lines(path, plots.Labels{Title: fmt.Sprintf("A stack of %d blocks, trained with and without residual connections", s.layers), X: "training step", Y: "loss"},
			plots.Series{Name: "without residual connections", X: x1, Y: y1}, plots.Series{Name: "with residual connections", X: x2, Y: y2}); err != nil {
			return err
		}
		e.drew(path, "both loss curves")
	}

	// Layer norm and dropout, a line each.
	b := nn.NewBuilder(nn.Random(rand.New(rand.NewPCG(e.seed, 10))), nil)
	ln := nn.NewLayerNorm(b.Sub("ln"), 6, true, 1e-5)
	v := autograd.Const(tensor.FromSlice([]float32{2, 4, 4, 4, 5, 11}, 1, 6))
	e.printf("\nLayer norm rescales a vector to average 0 and spread 1 before each part of a block, so that no\nlayer's numbers grow or shrink out of hand (then it scales and shifts them by learnt amounts):\n")
	e.printf("  %s → %s\n", vector(v.Value.Data()), vector(ln.Forward(v).Value.Data()))
	drop := nn.Dropout{P: 0.5, Mode: &nn.Mode{Training: true, RNG: rand.New(rand.NewPCG(e.seed, 11))}}
	ones := autograd.Const(tensor.Full(1, 1, 8))
	e.printf("Dropout, while training, zeroes numbers at random (here half of them) and scales up the rest, so\nthat the model cannot lean on any one of them:\n")
	e.printf("  %s → %s\n", vector(ones.Value.Data()), vector(drop.Forward(ones).Value.Data()))
	return nil
}
