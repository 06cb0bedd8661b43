package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/examples/internal/trainloop"
	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallArgs is a configuration that trains in about a second on two cores.
func smallArgs(out string, iters string, extra ...string) []string {
	return append([]string{
		"-n-layer", "1", "-n-head", "2", "-n-embd", "64", "-block-size", "32", "-batch-size", "16",
		"-max-iters", iters, "-lr", "1e-2", "-min-lr", "1e-3", "-warmup", "5", "-lr-decay-iters", "200",
		"-eval-interval", "20", "-eval-iters", "4", "-sample-len", "40", "-out", out,
	}, extra...)
}

// runOK runs the example and returns its output and final JSON line.
func runOK(t *testing.T, args []string) (string, summary) {
	t.Helper()
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), args, &out, &errOut), "stderr: %s", errOut.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var s summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &s), "last line: %s", lines[len(lines)-1])
	require.NotNil(t, s.TrainLoss, "smallArgs evaluates, so the summary has losses")
	require.NotNil(t, s.ValLoss)
	return out.String(), s
}

func TestTrainingLossFalls(t *testing.T) {
	out, s := runOK(t, smallArgs(t.TempDir(), "200", "-eval-interval", "50"))
	assert.Equal(t, 200, s.Iters)
	// Untrained, the loss is ln 65 ≈ 4.17; character frequencies alone bring it near 3.3, and
	// 200 steps of a small transformer get below 3.
	assert.Less(t, *s.TrainLoss, 3.0, out)
	assert.Less(t, *s.ValLoss, 3.0, out)
	assert.Greater(t, *s.TrainLoss, 1.0)
	assert.Greater(t, s.MsPerIter, 0.0)
	assert.Greater(t, s.Params, 0)
	assert.Contains(t, out, "eval iter 0: train loss 4.1")
	assert.Contains(t, out, "sample:\n")
	assert.Contains(t, out, "iter 200/200 | loss")
}

// -weights int8 samples from an int8 view of the trained model and prints its validation loss
// beside float32's (the same batches and model as the final evaluation).
func TestCompactWeightsForTheSample(t *testing.T) {
	out, s := runOK(t, smallArgs(t.TempDir(), "60", "-weights", "int8"))
	var l, f32, change float64
	i := strings.Index(out, "val loss with int8 weights: ")
	require.GreaterOrEqual(t, i, 0, out)
	_, err := fmt.Sscanf(out[i:], "val loss with int8 weights: %f (float32 %f, change %f)", &l, &f32, &change)
	require.NoError(t, err, out[i:])
	assert.InDelta(t, *s.ValLoss, f32, 1e-4, "float32's is the final evaluation's")
	assert.InDelta(t, l-f32, change, 1e-3)
	assert.Less(t, math.Abs(change), 0.05, "int8 moves the loss little")
	assert.Contains(t, out, "sample:\n")
}

// -precision bf16 trains with bf16 matrix products: on a CPU with AVX512-BF16 the losses differ
// from float32's, but little: bf16's 8-bit inputs make each product off by about 2⁻⁸, and after
// 100 steps at this small model's high learning rate the two runs' 4-batch validation losses
// differ by chance by a few hundredths (0.046 measured here), far less than a broken product
// would (the loss would stay near ln 65 ≈ 4.2); without AVX512-BF16 the run is float32's exactly.
func TestBF16PrecisionTrainsLikeFloat32(t *testing.T) {
	iters := "100"
	if !tensor.BF16Native() {
		iters = "20" // the runs must agree to the bit: a short one shows it (and purego is slow)
	}
	_, f32 := runOK(t, smallArgs(t.TempDir(), iters, "-sample-len", "0"))
	out, bf := runOK(t, smallArgs(t.TempDir(), iters, "-sample-len", "0", "-precision", "bf16"))
	t.Logf("val loss after %s iterations: float32 %.4f, bf16 %.4f", iters, *f32.ValLoss, *bf.ValLoss)
	if !tensor.BF16Native() {
		assert.Contains(t, out, "no AVX512-BF16")
		assert.Equal(t, *f32.ValLoss, *bf.ValLoss)
		return
	}
	assert.NotEqual(t, *f32.ValLoss, *bf.ValLoss, "bf16 products should change the bits")
	assert.InDelta(t, *f32.ValLoss, *bf.ValLoss, 0.1)
	assert.Equal(t, tensor.Float32, tensor.MatMulPrecision(), "run restores float32 products")
}

// Resuming from a checkpoint continues exactly where the run stopped: the same final losses as a
// run straight through, with dropout on so that the saved RNG states matter.
func TestResumeMatchesStraightRun(t *testing.T) {
	for _, rng := range []string{"pytorch", "pcg"} {
		t.Run(rng, func(t *testing.T) {
			args := func(dir, iters string, extra ...string) []string {
				return smallArgs(dir, iters, append([]string{"-dropout", "0.1", "-sample-len", "0", "-rng", rng}, extra...)...)
			}
			_, straight := runOK(t, args(t.TempDir(), "40"))
			dir := t.TempDir()
			runOK(t, args(dir, "20"))
			out, resumed := runOK(t, args(dir, "40", "-resume"))
			assert.Contains(t, out, "resumed from")
			assert.NotContains(t, out, "the checkpoint was trained with")
			assert.Equal(t, 20, resumed.Iters)
			assert.Equal(t, *straight.TrainLoss, *resumed.TrainLoss)
			assert.Equal(t, *straight.ValLoss, *resumed.ValLoss)

			// other optimizer settings are taken, with a note
			out, _ = runOK(t, args(dir, "45", "-resume", "-beta2", "0.95"))
			assert.Contains(t, out, "the checkpoint was trained with betas [0.9 0.99], eps 1e-08, weight decay 0.1; continuing with [0.9 0.95], 1e-08, 0.1")

			// a checkpoint resumes only with the generator kind it was trained with
			other := map[string]string{"pytorch": "pcg", "pcg": "pytorch"}[rng]
			var buf bytes.Buffer
			assert.ErrorContains(t, run(context.Background(), smallArgs(dir, "50", "-sample-len", "0", "-rng", other, "-resume"), &buf, &buf), "-rng "+rng)
		})
	}
}

// TestDefaultRunFollowsPyTorch trains the configuration of testdata/torch_small.json, which the
// PyTorch reference (../shared/bench/torch_gpt.py) trained with seed 1337, and checks that the
// example, with its default -rng pytorch, measures the same losses at every evaluation: the
// same initial weights, the same batches and the same arithmetic give the same run.
func TestDefaultRunFollowsPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_small.json")
	require.NoError(t, err)
	var ref struct {
		Params int `json:"params"`
		Evals  []struct {
			Iter       int
			Train, Val float64
		} `json:"evals"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	out, s := runOK(t, []string{
		"-n-layer", "2", "-n-head", "2", "-n-embd", "32", "-block-size", "16", "-batch-size", "8",
		"-max-iters", "60", "-lr", "3e-3", "-min-lr", "3e-4", "-warmup", "10", "-eval-interval", "20",
		"-eval-iters", "4", "-seed", "1337", "-sample-len", "0", "-out", t.TempDir(),
	})
	assert.Equal(t, ref.Params, s.Params)
	for _, e := range ref.Evals[:len(ref.Evals)-1] {
		// the log prints four decimals
		var train, val float64
		line := fmt.Sprintf("eval iter %d: ", e.Iter)
		i := strings.Index(out, line)
		require.GreaterOrEqual(t, i, 0, "no %q in the output", line)
		_, err := fmt.Sscanf(out[i+len(line):], "train loss %f, val loss %f", &train, &val)
		require.NoError(t, err)
		assert.InDelta(t, e.Train, train, 6e-5, "train loss at iteration %d", e.Iter)
		assert.InDelta(t, e.Val, val, 6e-5, "val loss at iteration %d", e.Iter)
	}
	last := ref.Evals[len(ref.Evals)-1]
	t.Logf("final losses: goformer train %.7f val %.7f, PyTorch train %.7f val %.7f", *s.TrainLoss, *s.ValLoss, last.Train, last.Val)
	assert.InDelta(t, last.Train, *s.TrainLoss, 1e-5)
	assert.InDelta(t, last.Val, *s.ValLoss, 1e-5)
}

func TestCustomDataFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "abc.txt")
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("abcabd", 200)), 0o644))
	out, s := runOK(t, smallArgs(t.TempDir(), "30", "-data", path))
	assert.Contains(t, out, "vocabulary 4")
	assert.Less(t, *s.ValLoss, math.Log(4))
}

// With -tokenizer bpe the example learns a subword vocabulary from the text first and trains on
// its tokens; the loss starts near ln(vocabulary) and falls.
func TestTrainingWithBPE(t *testing.T) {
	dir := t.TempDir()
	out, s := runOK(t, smallArgs(dir, "60", "-tokenizer", "bpe", "-bpe-vocab", "300", "-eval-interval", "30", "-sample-len", "20"))
	assert.Contains(t, out, "bpe tokens, vocabulary 300")
	assert.Less(t, *s.TrainLoss, math.Log(300)-1, out)
	assert.Contains(t, out, "sample:\n")
	// the same tokenizer resumes; a char-level run does not take its checkpoint
	runOK(t, smallArgs(dir, "70", "-tokenizer", "bpe", "-bpe-vocab", "300", "-sample-len", "0", "-resume"))
	var buf bytes.Buffer
	assert.ErrorContains(t, run(context.Background(), smallArgs(dir, "80", "-sample-len", "0", "-resume"), &buf, &buf), "another vocabulary")
}

func TestBadInputIsAnError(t *testing.T) {
	short := filepath.Join(t.TempDir(), "short.txt")
	require.NoError(t, os.WriteFile(short, []byte("to be or not to be"), 0o644))
	bin := filepath.Join(t.TempDir(), "bin.txt")
	require.NoError(t, os.WriteFile(bin, []byte{0xff, 0xfe, 0x00, 0x80}, 0o644))
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-n-head", "3"}, "not divisible"},
		{[]string{"-n-layer", "0"}, "-n-layer must be positive"},
		{[]string{"-lr", "-1"}, "-lr must be positive"},
		{[]string{"-lr", "NaN"}, "-lr must be positive"},
		{[]string{"-dropout", "1"}, "-dropout"},
		{[]string{"-beta2", "1.5"}, "-beta2"},
		{[]string{"-max-iters", "-5"}, "-max-iters"},
		{[]string{"-nope"}, "not defined"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-data", filepath.Join(dir, "missing.txt")}, "no such file"},
		{[]string{"-data", short}, "too short"},
		{[]string{"-data", bin}, "not valid UTF-8"},
		{[]string{"-resume", "-out", dir}, "checkpoint.json"},
		{[]string{"-tokenizer", "words"}, "-tokenizer must be char, bpe, gpt2 or model"},
		{[]string{"-rng", "mt"}, "-rng must be pytorch or pcg"},
		{[]string{"-tokenizer", "bpe", "-bpe-vocab", "100"}, "-bpe-vocab must be at least 256"},
		{[]string{"-weights", "int4"}, `-weights: model: unknown weight format "int4"`},
		{[]string{"-precision", "fp16"}, `-precision: unknown precision "fp16"`},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), c.args, &out, &errOut)
		assert.ErrorContains(t, err, c.want, "%v", c.args)
	}

	// A checkpoint trained on another text does not resume on this one.
	abc := filepath.Join(t.TempDir(), "abc.txt")
	require.NoError(t, os.WriteFile(abc, []byte(strings.Repeat("abcabd", 200)), 0o644))
	runOK(t, smallArgs(dir, "2", "-data", abc, "-sample-len", "0"))
	var out bytes.Buffer
	assert.ErrorContains(t, run(context.Background(), smallArgs(dir, "4", "-resume"), &out, &out), "another vocabulary")
}

func TestSampleBatchTargetsAreShiftedInputs(t *testing.T) {
	d, err := newDataset(context.Background(), shakespeare, 8, "char", 0, "")
	require.NoError(t, err)
	assert.Equal(t, 65, d.tok.VocabSize())
	assert.Equal(t, 1003854, len(d.train)) // nanoGPT's split of the same file
	assert.Equal(t, 111540, len(d.val))
	bs := evalBatches(d.val, 3, 4, 8, newRandomness("pytorch", 1).evalWindows())
	require.Len(t, bs, 3)
	text, err := d.tok.Decode(d.val)
	require.NoError(t, err)
	for _, b := range bs {
		require.Len(t, b.x, 32) // 4 rows of 8
		for r := range 4 {
			x, y := b.x[r*8:(r+1)*8], b.y[r*8:(r+1)*8]
			assert.Equal(t, x[1:], y[:7])
			xs, _ := d.tok.Decode(x)
			ys, _ := d.tok.Decode(y)
			assert.Contains(t, text, xs+ys[7:])
		}
	}
	assert.Equal(t, bs, evalBatches(d.val, 3, 4, 8, newRandomness("pytorch", 1).evalWindows()), "evaluation batches are fixed by the seed")
	assert.NotEqual(t, bs, evalBatches(d.val, 3, 4, 8, newRandomness("pcg", 1).evalWindows()))
}

// -init-from fine-tunes a Hugging Face GPT-2 (here the tiny test fixture, GPT-2's vocabulary at
// small widths) on the text with GPT-2's tokenizer: the context is cropped to -block-size, the
// loss falls, and the run resumes from its checkpoint.
func TestFineTuneFromHuggingFace(t *testing.T) {
	hf := fixture.HFDir(t)
	dir := t.TempDir()
	args := func(iters string, extra ...string) []string {
		return append([]string{
			"-init-from", hf, "-tokenizer", "gpt2", "-block-size", "16", "-batch-size", "4",
			"-max-iters", iters, "-lr", "3e-3", "-warmup", "2", "-lr-decay-iters", "40",
			"-eval-interval", "20", "-eval-iters", "2", "-sample-len", "8", "-out", dir,
		}, extra...)
	}
	out, s := runOK(t, args("30"))
	assert.Contains(t, out, "gpt2 tokens, vocabulary 50257")
	assert.Contains(t, out, "fine-tuning "+hf)
	assert.Contains(t, out, "2 layers, 4 heads, 32 wide, block 16")
	var first float64
	i := strings.Index(out, "eval iter 0: train loss ")
	require.GreaterOrEqual(t, i, 0)
	_, err := fmt.Sscanf(out[i+len("eval iter 0: train loss "):], "%f", &first)
	require.NoError(t, err)
	assert.Less(t, *s.TrainLoss, first-0.5, out)

	export := t.TempDir()
	out, resumed := runOK(t, args("40", "-resume", "-export-hf", export))
	assert.Contains(t, out, "resumed from")
	assert.NotContains(t, out, "fine-tuning")

	// the exported directory holds the trained weights: those of the final checkpoint
	exported, err := model.LoadHF(export)
	require.NoError(t, err)
	ck, err := checkpoint.Load(dir)
	require.NoError(t, err)
	trained, err := ck.GPT()
	require.NoError(t, err)
	assert.Equal(t, 16, exported.Config.BlockSize)
	want := map[string][]float32{}
	for _, p := range trained.Parameters() {
		want[p.Name()] = p.Value.Values()
	}
	for _, p := range exported.Parameters() {
		assert.Equal(t, want[p.Name()], p.Value.Values(), p.Name())
	}
	assert.NotNil(t, resumed.ValLoss)

	var buf bytes.Buffer
	assert.ErrorContains(t, run(context.Background(), []string{"-init-from", hf}, &buf, &buf), "-init-from needs -tokenizer gpt2")
	assert.ErrorContains(t, run(context.Background(), args("1", "-block-size", "64", "-out", t.TempDir()), &buf, &buf), "longer than the context")
}

// -grad-accum 2 with batches of 8 draws the same 16 windows per step as batches of 16 (with
// -rng pytorch one batch's rows are consecutive draws), and the scaled gradients add up to the
// full batch's: the runs agree up to float rounding.
func TestGradientAccumulationMatchesTheFullBatch(t *testing.T) {
	common := []string{"-n-layer", "1", "-n-head", "2", "-n-embd", "32", "-block-size", "16",
		"-max-iters", "30", "-lr", "3e-3", "-warmup", "5", "-eval-interval", "0", "-sample-len", "0"}
	// evaluation batches have -batch-size rows: 8 of 8 rows are the same 64 windows as 4 of 16
	full, fullSum := runOK(t, append([]string{"-batch-size", "16", "-eval-iters", "4", "-out", t.TempDir()}, common...))
	accum, accumSum := runOK(t, append([]string{"-batch-size", "8", "-grad-accum", "2", "-eval-iters", "8", "-out", t.TempDir()}, common...))
	assert.Contains(t, accum, "batch 2×8 (accumulated)")
	assert.NotContains(t, full, "accumulated")
	assert.InDelta(t, *fullSum.TrainLoss, *accumSum.TrainLoss, 1e-4)
	assert.InDelta(t, *fullSum.ValLoss, *accumSum.ValLoss, 1e-4)
	t.Logf("full batch: train %.6f val %.6f; accumulated: train %.6f val %.6f",
		*fullSum.TrainLoss, *fullSum.ValLoss, *accumSum.TrainLoss, *accumSum.ValLoss)

	// and not by accident: one micro-batch of 8 is another run
	_, half := runOK(t, append([]string{"-batch-size", "8", "-eval-iters", "8", "-out", t.TempDir()}, common...))
	assert.Greater(t, math.Abs(*half.ValLoss-*fullSum.ValLoss), 1e-3)
}

// A checkpoint past -max-iters is not rewound: resuming it is refused, with the checkpoint left as
// it was; resuming at exactly -max-iters trains nothing, evaluates, and rewrites nothing.
func TestResumeNeverRewinds(t *testing.T) {
	dir := t.TempDir()
	runOK(t, smallArgs(dir, "10", "-sample-len", "0"))
	before, err := os.ReadFile(filepath.Join(dir, checkpoint.File))
	require.NoError(t, err)

	var buf bytes.Buffer
	err = run(context.Background(), smallArgs(dir, "5", "-sample-len", "0", "-resume"), &buf, &buf)
	assert.ErrorContains(t, err, "at iteration 10, past -max-iters 5")
	assert.NotContains(t, buf.String(), "final eval")
	after, err := os.ReadFile(filepath.Join(dir, checkpoint.File))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "the checkpoint is untouched")
	ck, err := checkpoint.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, 10, ck.Step)

	out, s := runOK(t, smallArgs(dir, "10", "-sample-len", "0", "-resume"))
	assert.Equal(t, 0, s.Iters)
	assert.Contains(t, out, "final eval after 10 iterations")
	assert.NotContains(t, out, "saved checkpoint")
	after, err = os.ReadFile(filepath.Join(dir, checkpoint.File))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "nothing trained, nothing saved")
}

// An -out that cannot hold a checkpoint is an error at startup, before any training, not at the
// first save.
func TestUnwritableOutFailsFirst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	var out bytes.Buffer
	err := run(context.Background(), smallArgs(filepath.Join(file, "ckpt"), "30", "-sample-len", "0"), &out, &out)
	assert.ErrorContains(t, err, "-out")
	assert.NotContains(t, out.String(), "eval iter", "no training before the error")
	assert.NotContains(t, out.String(), "iter 10/")

	// -resume of a directory without a checkpoint is an error, and does not create it
	missing := filepath.Join(t.TempDir(), "typo")
	assert.ErrorContains(t, run(context.Background(), smallArgs(missing, "30", "-resume"), &out, &out), "checkpoint.json")
	assert.NoDirExists(t, missing)

	// a fresh directory is created, and left empty until the first save
	dir := filepath.Join(t.TempDir(), "a", "b")
	runOK(t, smallArgs(dir, "1", "-sample-len", "0", "-eval-iters", "1"))
	_, err = checkpoint.Load(dir)
	assert.NoError(t, err)
}

// A diverging run stops at the first non-finite loss or gradient, before the optimizer step, and
// leaves the last good checkpoint as it was (it used to overwrite it with NaN weights at every
// evaluation and die on a NaN in the final JSON line).
func TestDivergingRunKeepsTheLastGoodCheckpoint(t *testing.T) {
	dir := t.TempDir()
	runOK(t, smallArgs(dir, "10", "-sample-len", "0"))
	before := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		before[e.Name()] = b
	}

	var out, errOut bytes.Buffer
	args := smallArgs(dir, "20", "-resume", "-lr", "1e6", "-eval-interval", "5", "-sample-len", "0")
	err = run(context.Background(), args, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "diverged at step")
	assert.ErrorIs(t, err, trainloop.ErrDiverged)
	assert.Regexp(t, `loss is NaN|gradient of \S+ `, err.Error(), "names the loss or the parameter")
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(line, "{") {
			assert.True(t, json.Valid([]byte(line)), "a JSON line must be valid: %s", line)
		}
	}
	after := map[string][]byte{}
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		after[e.Name()] = b
	}
	assert.Equal(t, before, after, "the checkpoint directory is untouched")
}
