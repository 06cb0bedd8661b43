package model

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/safetensors"
)

// seq2seqFixture returns the PyTorch nn.Transformer fixture directory: the one named by
// GOFORMER_SEQ2SEQ_FIXTURE (which must exist: a test pointed at a fixture never skips), else
// ../shared/testdata/torch-transformer-tiny, skipping without it.
func seq2seqFixture(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(fixture.Seq2SeqEnv); p != "" {
		_, err := os.Stat(p)
		require.NoError(t, err, "%s points at a missing fixture", fixture.Seq2SeqEnv)
		return p
	}
	return fixture.Path(t, "", fixture.Seq2SeqRel)
}

// TestTorchTransformerParity loads a model that PyTorch's nn.Transformer wrote and checks the
// logits, loss, every parameter's gradient and greedy decoding against what PyTorch computed.
func TestTorchTransformerParity(t *testing.T) {
	checkTorchTransformerParity(t, seq2seqFixture(t))
}

// TestTorchTransformerParityPreLNGELU runs the same checks on a second PyTorch fixture, kept in
// testdata (model/testdata/make_torch_transformer.py wrote it): pre-LN, GELU, 1 encoder and 3
// decoder layers, other sizes, so that nothing the first fixture happens to share with the code
// can hide a bug.
func TestTorchTransformerParityPreLNGELU(t *testing.T) {
	checkTorchTransformerParity(t, filepath.Join("testdata", "torch-transformer-preln-gelu"))
}

// int64Tensor reads an integer tensor of the reference as ints with its shape.
func int64Tensor(t *testing.T, st *safetensors.File, name string) ([]int, []int) {
	t.Helper()
	v, shape, err := st.Int64(name)
	require.NoError(t, err, "reference tensor %s", name)
	require.Len(t, shape, 2, "%s is (rows, length)", name)
	return ints(v), shape
}

func checkTorchTransformerParity(t *testing.T, dir string) {
	m, err := LoadTransformer(dir)
	require.NoError(t, err)
	cfg := m.Config
	t.Logf("fixture %s: %+v", dir, cfg)
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	require.NoError(t, err)
	defer ref.Close()
	var refJSON struct {
		ParamNames []string `json:"param_names"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &refJSON))
	var names []string
	for _, p := range m.Parameters() {
		names = append(names, p.Name())
	}
	require.Equal(t, refJSON.ParamNames, names, "parameters, in PyTorch's order")

	src, srcShape := int64Tensor(t, ref, "src")
	tgtIn, tgtShape := int64Tensor(t, ref, "tgt_in")
	tgtOut, outShape := int64Tensor(t, ref, "tgt_out")
	require.Equal(t, tgtShape, outShape)
	require.Equal(t, srcShape[0], tgtShape[0], "one target per source")
	b := srcShape[0]

	// Tolerances. PyTorch and goformer compute the same float32 operations in different orders
	// (blocked matmuls, vectorised sums), so results differ by rounding: relative 1e-7 per
	// operation, grown through a few dozen layers to about 1e-6 of the largest values. Logits
	// (|x| up to ~10) and the loss are held to 1e-5 absolute plus 1e-5 relative. Gradients are
	// sums over the whole batch of products of such values, and the post-LN LayerNorms divide by
	// small standard deviations, so they get 1e-5 + 1e-4·|ref|. A real error (a wrong mask, a
	// missing scale, a transposed weight) is off by far more than these.
	const (
		logitAtol, logitRtol = 1e-5, 1e-5
		gradAtol, gradRtol   = 1e-5, 1e-4
	)

	// logits, on a frozen view (no graph, no dropout)
	logits, err := m.Frozen().Forward(src, tgtIn, b)
	require.NoError(t, err)
	wantLogits, err := ref.Float32("logits")
	require.NoError(t, err)
	require.Equal(t, wantLogits.Shape(), logits.Shape())
	assertClose(t, "logits", logits.Value.Values(), wantLogits.Values(), logitAtol, logitRtol)

	// loss and gradients, with dropout off (the reference has none) on the trainable model
	loss, err := m.Loss(src, tgtIn, tgtOut, b)
	require.NoError(t, err)
	wantLoss, err := ref.Float32("loss")
	require.NoError(t, err)
	assertClose(t, "loss", []float32{loss.Item()}, wantLoss.Values(), logitAtol, logitRtol)
	loss.Backward()
	for _, p := range m.Parameters() {
		want, err := ref.Float32("grad." + p.Name())
		require.NoError(t, err)
		require.NotNil(t, p.Grad(), "%s got no gradient", p.Name())
		require.Equal(t, want.Shape(), p.Grad().Shape(), p.Name())
		assertClose(t, "grad."+p.Name(), p.Grad().Values(), want.Values(), gradAtol, gradRtol)
	}

	// greedy decoding of each source, its padding removed, in one batch
	gsrc, gsrcShape := int64Tensor(t, ref, "greedy.src")
	gout, goutShape := int64Tensor(t, ref, "greedy.output")
	require.Equal(t, gsrcShape[0], goutShape[0])
	var srcs [][]int
	for r := range gsrcShape[0] {
		row := gsrc[r*gsrcShape[1] : (r+1)*gsrcShape[1]]
		n := len(row)
		for n > 0 && row[n-1] == cfg.PadID {
			n--
		}
		srcs = append(srcs, row[:n])
	}
	maxNew := goutShape[1] - 1 // the output row holds BOS and up to this many new tokens
	hyps, err := m.Translate(context.Background(), srcs, Decoding{MaxNew: maxNew})
	require.NoError(t, err)
	for r, h := range hyps {
		got := append([]int{cfg.BosID}, h.Tokens...)
		if h.Ended {
			got = append(got, cfg.EosID)
		}
		for len(got) < goutShape[1] {
			got = append(got, cfg.PadID)
		}
		assert.Equal(t, gout[r*goutShape[1]:(r+1)*goutShape[1]], got, "greedy output %d", r)
	}
	// one source at a time gives the same (padding in a batch changes nothing)
	for r, s := range srcs {
		one, err := m.Translate(context.Background(), [][]int{s}, Decoding{MaxNew: maxNew})
		require.NoError(t, err)
		assert.Equal(t, hyps[r].Tokens, one[0].Tokens, "source %d alone", r)
	}
	assert.True(t, slices.ContainsFunc(hyps, func(h Hypothesis) bool { return len(h.Tokens) > 0 }), "something was decoded")
}
