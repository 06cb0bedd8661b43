package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/checkpoint"
	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/hf"
)

// tinyLlamaConfig is a Llama-family model at test size.
func tinyLlamaConfig(vocab int) model.Config {
	return model.Config{VocabSize: vocab, BlockSize: 32, NLayer: 2, NHead: 4, NKVHead: 2, NEmbd: 16, FFHidden: 24,
		NoBias: true, Norm: model.NormRMSNorm, Positions: model.PositionsRotary, FeedForward: model.FeedForwardSwiGLU}
}

// llamaDir writes a tiny Llama-family model (random weights) with the tokenizer files of a 32k
// SentencePiece-style BPE (Llama 2's kind), as a Hub directory holds them, and a short text to
// fine-tune it on.
func llamaDir(t *testing.T) (dir, text string, base *model.GPT) {
	t.Helper()
	src := filepath.Join(fixture.Path(t, "GOFORMER_HF_TOKENIZERS", "testdata/hf-tokenizers"), "sp-bpe-32k")
	tok, err := hf.Load(src)
	require.NoError(t, err)
	base, err = model.New(tinyLlamaConfig(tok.VocabSize()), 7)
	require.NoError(t, err)
	// Embeddings of a trained model's size (std 1 instead of 0.02) give the tied head logits
	// that a change of the hidden state moves, as in a pretrained model.
	for _, p := range base.Parameters() {
		if p.Name() == "model.embed_tokens.weight" {
			p.Value.ScaleInPlace(50)
		}
	}
	dir = t.TempDir()
	require.NoError(t, model.SaveHF(base, dir))
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	text = filepath.Join(t.TempDir(), "text.txt")
	require.NoError(t, os.WriteFile(text, []byte(shakespeare[:3000]), 0o644))
	return dir, text, base
}

func finetuneArgs(dir, text, out string, extra ...string) []string {
	return append([]string{"-init-from", dir, "-tokenizer", "model", "-data", text, "-block-size", "16", "-batch-size", "4",
		"-max-iters", "24", "-lr", "2e-2", "-warmup", "2", "-eval-interval", "12", "-eval-iters", "2", "-sample-len", "8",
		"-out", out}, extra...)
}

// firstEval returns the training loss of the evaluation before the first step.
func firstEval(t *testing.T, out string) float64 {
	t.Helper()
	var first float64
	i := strings.Index(out, "eval iter 0: train loss ")
	require.GreaterOrEqual(t, i, 0, out)
	_, err := fmt.Sscanf(out[i+len("eval iter 0: train loss "):], "%f", &first)
	require.NoError(t, err)
	return first
}

func frozenLogits(t *testing.T, m *model.GPT, ids []int) []float32 {
	t.Helper()
	l, err := m.Frozen().Forward(ids, 1, len(ids))
	require.NoError(t, err)
	return l.Value.Values()
}

// -init-from a Llama-family directory with -lora-rank fine-tunes low-rank adapters on the text,
// tokenised by the directory's own tokenizer: only the adapters train (the count printed is
// theirs, computed here from the config), the loss falls, and -export-hf writes the merged model,
// which loads back computing the in-memory merge's logits bit for bit, with the base's weights
// wherever there was no adapter and the tokenizer files beside it.
func TestFineTuneLlamaWithLoRA(t *testing.T) {
	dir, text, base := llamaDir(t)
	var got *model.GPT
	trained = func(m *model.GPT) { got = m }
	defer func() { trained = nil }()
	export, adapters := t.TempDir(), t.TempDir()
	out, s := runOK(t, finetuneArgs(dir, text, t.TempDir(), "-lora-rank", "4", "-lora-alpha", "8", "-export-hf", export, "-export-lora", adapters))
	c := base.Config
	r, hs := 4, c.NEmbd/c.NHead
	perLayer := r*(c.NEmbd+c.NHead*hs) + 2*r*(c.NEmbd+c.NKVHead*hs) + r*(c.NHead*hs+c.NEmbd) + 3*r*(c.NEmbd+c.FFHidden)
	assert.Contains(t, out, fmt.Sprintf("LoRA: rank 4, alpha 8 on %d layers: %d trainable parameters", 7*c.NLayer, perLayer*c.NLayer))
	assert.Contains(t, out, "fine-tuning "+dir)
	assert.Contains(t, out, "saved checkpoint at iteration 24")
	first := firstEval(t, out)
	t.Logf("train loss %.4f before, %.4f after", first, *s.TrainLoss)
	assert.Less(t, *s.TrainLoss, first-0.3)

	require.NotNil(t, got)
	require.NotNil(t, got.LoRA())
	for _, p := range got.Parameters() {
		assert.Regexp(t, `\.lora_[AB]\.weight$`, p.Name(), "only the adapters are trained")
	}
	merged, err := got.Merge()
	require.NoError(t, err)
	exported, err := model.LoadHF(export)
	require.NoError(t, err)
	ids := []int{1, 9707, 11, 1879, 0, 42, 31999}
	assert.Equal(t, frozenLogits(t, merged, ids), frozenLogits(t, exported, ids))
	// the adapters alone, put back on the base, compute what the trained model does
	withAdapters, err := model.LoadLoRA(base, adapters)
	require.NoError(t, err)
	assert.Equal(t, frozenLogits(t, got, ids), frozenLogits(t, withAdapters, ids))
	assert.Contains(t, out, "exported the adapters alone in PEFT's layout to "+adapters)

	want := map[string][]float32{}
	for _, p := range base.Parameters() {
		want[p.Name()] = p.Value.Values()
	}
	adapted := 0
	for _, p := range exported.Parameters() {
		if strings.HasSuffix(p.Name(), "_proj.weight") {
			assert.NotEqual(t, want[p.Name()], p.Value.Values(), "%s: its adapter is merged in", p.Name())
			adapted++
		} else {
			assert.Equal(t, want[p.Name()], p.Value.Values(), "%s is the base's", p.Name())
		}
	}
	assert.Equal(t, 7*c.NLayer, adapted)
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		assert.FileExists(t, filepath.Join(export, name))
	}
}

// Full fine-tuning of the same directory trains every weight, checkpoints, and exports exactly
// what it trained.
func TestFineTuneLlamaFully(t *testing.T) {
	dir, text, _ := llamaDir(t)
	var got *model.GPT
	trained = func(m *model.GPT) { got = m }
	defer func() { trained = nil }()
	export, ck := t.TempDir(), t.TempDir()
	out, s := runOK(t, finetuneArgs(dir, text, ck, "-export-hf", export, "-max-iters", "12", "-eval-interval", "6", "-sample-len", "0"))
	first := firstEval(t, out)
	t.Logf("train loss %.4f before, %.4f after", first, *s.TrainLoss)
	assert.Less(t, *s.TrainLoss, first-0.3)
	assert.Contains(t, out, "saved checkpoint at iteration 12")
	require.NotNil(t, got)
	assert.Nil(t, got.LoRA())
	exported, err := model.LoadHF(export)
	require.NoError(t, err)
	want := map[string][]float32{}
	for _, p := range got.Parameters() {
		want[p.Name()] = p.Value.Values()
	}
	require.Len(t, exported.Parameters(), len(want))
	for _, p := range exported.Parameters() {
		assert.Equal(t, want[p.Name()], p.Value.Values(), p.Name())
	}
}

func TestFineTuneFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-tokenizer", "model"}, "-tokenizer model needs -init-from"},
		{[]string{"-lora-rank", "4"}, "-lora-rank fine-tunes a pretrained model"},
		{[]string{"-lora-rank", "-1"}, "-lora-rank must be >= 0"},
		{[]string{"-init-from", "x", "-tokenizer", "model", "-export-lora", "out"}, "-export-lora writes LoRA adapters: it needs -lora-rank"},
		{[]string{"-init-from", "x", "-tokenizer", "model", "-lora-alpha", "-2"}, "-lora-alpha must be >= 0"},
	} {
		_, err := parseFlags(tc.args, &strings.Builder{})
		assert.ErrorContains(t, err, tc.want, "%v", tc.args)
	}
}

// A LoRA run stopped and resumed (-resume with the flags it was started with) ends as the run
// straight through: the same losses and the same adapters, bit for bit, with dropout on so that
// the saved generator states matter. The model comes from the checkpoint, base and adapters:
// -init-from gives the tokenizer only. Flags that describe other adapters, or none, are refused
// before any training, the checkpoint left as it was.
func TestFineTuneWithLoRAResumes(t *testing.T) {
	dir, text, _ := llamaDir(t)
	var got *model.GPT
	trained = func(m *model.GPT) { got = m }
	defer func() { trained = nil }()
	args := func(out, iters string, extra ...string) []string {
		return finetuneArgs(dir, text, out, append([]string{"-max-iters", iters, "-lr-decay-iters", "24", "-dropout", "0.1",
			"-sample-len", "0", "-lora-rank", "4", "-lora-alpha", "8", "-lora-targets", "q_proj,v_proj,down_proj"}, extra...)...)
	}
	_, straight := runOK(t, args(t.TempDir(), "24"))
	want := adapterBits(t, got)

	ck := t.TempDir()
	runOK(t, args(ck, "12"))
	out, resumed := runOK(t, args(ck, "24", "-resume"))
	assert.Contains(t, out, "resumed from "+ck+" at iteration 12")
	assert.Contains(t, out, "LoRA: rank 4, alpha 8 on 6 layers")
	assert.NotContains(t, out, "fine-tuning", "the model is the checkpoint's")
	assert.NotContains(t, out, "instead of the flags'")
	assert.Equal(t, 12, resumed.Iters)
	assert.Equal(t, *straight.TrainLoss, *resumed.TrainLoss)
	assert.Equal(t, *straight.ValLoss, *resumed.ValLoss)
	assert.Equal(t, want, adapterBits(t, got))

	before, err := os.ReadFile(filepath.Join(ck, checkpoint.File))
	require.NoError(t, err)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{finetuneArgs(dir, text, ck, "-max-iters", "30", "-resume"), "trains LoRA adapters with -lora-rank 4 -lora-alpha 8 -lora-targets q_proj,v_proj,down_proj: pass the same flags"},
		{args(ck, "30", "-resume", "-lora-alpha", "16"), "pass the same flags"},
		{args(ck, "30", "-resume", "-lora-targets", "q_proj"), "pass the same flags"},
	} {
		var buf bytes.Buffer
		assert.ErrorContains(t, run(context.Background(), tc.args, &buf, &buf), tc.want, "%q", tc.args)
		assert.NotContains(t, buf.String(), "iter ")
	}
	after, err := os.ReadFile(filepath.Join(ck, checkpoint.File))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "the checkpoint is untouched")

	// and a fully trained checkpoint does not resume as a LoRA run
	full := t.TempDir()
	runOK(t, finetuneArgs(dir, text, full, "-max-iters", "2", "-eval-interval", "0", "-sample-len", "0"))
	var buf bytes.Buffer
	assert.ErrorContains(t, run(context.Background(), args(full, "4", "-resume"), &buf, &buf), "without LoRA adapters: resume it without -lora-rank")
}

// adapterBits returns the bits of m's adapters, by name.
func adapterBits(t *testing.T, m *model.GPT) map[string][]uint32 {
	t.Helper()
	require.NotNil(t, m)
	require.NotNil(t, m.LoRA())
	out := map[string][]uint32{}
	for _, p := range m.Parameters() {
		for _, v := range p.Value.Values() {
			out[p.Name()] = append(out[p.Name()], math.Float32bits(v))
		}
	}
	return out
}
