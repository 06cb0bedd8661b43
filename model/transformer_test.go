package model

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// tinyTransformerConfig is pre-LN with GELU and unequal layer counts: the options the shared
// fixture does not exercise.
func tinyTransformerConfig() TransformerConfig {
	return TransformerConfig{
		SrcVocabSize: 11, TgtVocabSize: 13, DModel: 8, NHead: 2, NumEncoderLayers: 1, NumDecoderLayers: 2,
		DimFeedforward: 12, Activation: "gelu", NormFirst: true, MaxLen: 16, PadID: 0, BosID: 1, EosID: 2,
	}
}

// a padded batch of 2: sources of 5 and 3 tokens, targets of 4 and 2 (+ BOS/EOS).
var (
	tinySrc    = []int{3, 4, 5, 6, 7, 8, 9, 10, 0, 0}
	tinyTgtIn  = []int{1, 3, 4, 5, 6, 1, 7, 8, 0, 0}
	tinyTgtOut = []int{3, 4, 5, 6, 2, 7, 8, 2, 0, 0}
)

func TestTransformerConfigValidate(t *testing.T) {
	require.NoError(t, tinyTransformerConfig().Validate())
	for _, c := range []struct {
		edit func(*TransformerConfig)
		want string
	}{
		{func(c *TransformerConfig) { c.DModel = 0 }, "d_model must be positive"},
		{func(c *TransformerConfig) { c.NHead = 3 }, "not divisible by nhead 3"},
		{func(c *TransformerConfig) { c.NumDecoderLayers = -1 }, "num_decoder_layers must be positive"},
		{func(c *TransformerConfig) { c.Activation = "tanh" }, `activation "tanh" is not supported`},
		{func(c *TransformerConfig) { c.Dropout = 1 }, "dropout must be in [0, 1)"},
		{func(c *TransformerConfig) { c.LayerNormEps = float32(math.NaN()) }, "layer_norm_eps"},
		{func(c *TransformerConfig) { c.EosID = 13 }, "eos_id 13 is outside the vocabulary [0, 13)"},
		{func(c *TransformerConfig) { c.PadID = 12 }, "pad_id 12 is outside the vocabulary [0, 11)"},
		{func(c *TransformerConfig) { c.BosID = 0 }, "bos_id and pad_id are both 0"},
		{func(c *TransformerConfig) { c.PositionalEncoding = "learned" }, `positional_encoding "learned" is not supported`},
		{func(c *TransformerConfig) { c.EmbeddingScale = "1" }, `embedding_scale "1" is not supported`},
	} {
		cfg := tinyTransformerConfig()
		c.edit(&cfg)
		assert.ErrorContains(t, cfg.Validate(), c.want)
		_, err := NewTransformer(cfg, 1)
		assert.ErrorContains(t, err, c.want, "NewTransformer validates")
	}
}

func TestParseTransformerConfig(t *testing.T) {
	cfg := tinyTransformerConfig()
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	got, err := ParseTransformerConfig(js)
	require.NoError(t, err)
	assert.Equal(t, cfg, got, "JSON round trip")
	_, err = ParseTransformerConfig([]byte(`{"d_model": 8}`))
	assert.ErrorContains(t, err, `missing ["src_vocab_size" "tgt_vocab_size" "nhead"`)
	_, err = ParseTransformerConfig([]byte(`[1, 2]`))
	assert.ErrorContains(t, err, "config.json")
	bad := strings.Replace(string(js), `"nhead":2`, `"nhead":"two"`, 1)
	_, err = ParseTransformerConfig([]byte(bad))
	assert.ErrorContains(t, err, "config.json")
	bad = strings.Replace(string(js), `"nhead":2`, `"nhead":3`, 1)
	_, err = ParseTransformerConfig([]byte(bad))
	assert.ErrorContains(t, err, "not divisible")
}

func TestTransformerBadInputIsAnError(t *testing.T) {
	m, err := NewTransformer(tinyTransformerConfig(), 1)
	require.NoError(t, err)
	for _, c := range []struct {
		src, tgt []int
		b        int
		want     string
	}{
		{tinySrc, tinyTgtIn, 0, "batch size must be positive"},
		{tinySrc, tinyTgtIn, 3, "do not make 3 non-empty rows"},
		{[]int{3, 4, 11, 0}, []int{1, 3}, 2, "source id 11 at position 2 is outside the vocabulary [0, 11)"},
		{[]int{3, -1}, []int{1, 3}, 1, "source id -1"},
		{tinySrc, []int{1, 13, 1, 3}, 2, "target id 13"},
		{make([]int, 17), []int{1}, 1, "source of 17 tokens is longer than max_len 16"},
		{[]int{3, 0, 0, 0}, []int{1, 3}, 2, "source row 1 is all padding"},
		{[]int{3, 4}, []int{1, 3, 0, 5}, 2, "target row 1 starts with padding"},
	} {
		_, err := m.Forward(c.src, c.tgt, c.b)
		assert.ErrorContains(t, err, c.want)
	}
	_, err = m.Loss(tinySrc, tinyTgtIn, tinyTgtOut[:4], 2)
	assert.ErrorContains(t, err, "4 targets for 10 target inputs")
	_, err = m.Loss(tinySrc, tinyTgtIn, make([]int, 10), 2)
	assert.ErrorContains(t, err, "every target is padding")
	_, err = m.Loss(tinySrc, tinyTgtIn, []int{3, 4, 5, 6, 2, 7, 8, 2, 0, 99}, 2)
	assert.ErrorContains(t, err, "target id 99")

	ctx := context.Background()
	for _, c := range []struct {
		srcs [][]int
		d    Decoding
		want string
	}{
		{nil, Decoding{}, "no sources"},
		{[][]int{{3}, {}}, Decoding{}, "source 1 is empty"},
		{[][]int{{3, 11}}, Decoding{}, "source id 11"},
		{[][]int{make([]int, 17)}, Decoding{}, "longer than max_len 16"},
		{[][]int{{3}}, Decoding{MaxNew: 16}, "MaxNew must be in [0, max_len − 1 = 15]"},
		{[][]int{{3}}, Decoding{MaxNew: -1}, "MaxNew"},
		{[][]int{{3}}, Decoding{Beam: -2}, "Beam must be in [0, 13]"},
		{[][]int{{3}}, Decoding{Beam: 14}, "Beam must be in [0, 13]"},
		{[][]int{{3}}, Decoding{Beam: 2, LengthPenalty: math.NaN()}, "LengthPenalty must be finite"},
	} {
		_, err := m.Translate(ctx, c.srcs, c.d)
		assert.ErrorContains(t, err, c.want)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = m.Translate(cancelled, [][]int{{3}}, Decoding{MaxNew: 3})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTransformerParameterNamesAndCounts(t *testing.T) {
	cfg := tinyTransformerConfig()
	m, err := NewTransformer(cfg, 1)
	require.NoError(t, err)
	specs := transformerSpecs(cfg)
	require.Len(t, m.Parameters(), len(specs))
	// 2 embeddings + 12 per encoder layer + encoder norm (2) + 18 per decoder layer + decoder norm (2) + generator (2)
	assert.Len(t, specs, 2+12*cfg.NumEncoderLayers+2+18*cfg.NumDecoderLayers+2+2)
	for i, p := range m.Parameters() {
		assert.Equal(t, specs[i].Name, p.Name())
		assert.Equal(t, specs[i].Shape, p.Shape())
	}
	assert.Equal(t, "transformer.decoder.layers.1.multihead_attn.in_proj_weight", specs[2+12+2+18+4].Name)
	m2, err := NewTransformer(cfg, 1)
	require.NoError(t, err)
	assert.Equal(t, m.Parameters()[5].Value.Values(), m2.Parameters()[5].Value.Values(), "same seed, same weights")
}

// TestTransformerGradientsMatchFiniteDifferences checks the gradient of the loss with respect to
// every parameter of a pre-LN, GELU, 1 + 2 layer model with padding, along a random direction
// per parameter: (L(θ + h·d) − L(θ − h·d)) / 2h against Σ g·d.
func TestTransformerGradientsMatchFiniteDifferences(t *testing.T) {
	for _, normFirst := range []bool{true, false} {
		cfg := tinyTransformerConfig()
		cfg.NormFirst = normFirst
		m, err := NewTransformer(cfg, 3)
		require.NoError(t, err)
		loss, err := m.Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
		require.NoError(t, err)
		loss.Backward()
		lossAt := func() float64 {
			l, err := m.Frozen().Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
			require.NoError(t, err)
			return float64(l.Item())
		}
		rng := rand.New(rand.NewPCG(4, 4))
		const h = 1e-2
		for _, p := range m.Parameters() {
			dir := tensor.RandNormal(rng, 0, 1, p.Shape()...)
			want := 0.0
			for i, g := range p.Grad().Values() {
				want += float64(g) * float64(dir.Values()[i])
			}
			orig := p.Value.Clone()
			p.Value.CopyFrom(tensor.Add(orig, tensor.Scale(dir, h)))
			lp := lossAt()
			p.Value.CopyFrom(tensor.Sub(orig, tensor.Scale(dir, h)))
			lm := lossAt()
			p.Value.CopyFrom(orig)
			num := (lp - lm) / (2 * h)
			// float32 losses: rounding of ~1e-7·L/h, truncation of O(h²)
			assert.InDelta(t, num, want, 2e-3+2e-2*math.Abs(num), "norm_first=%v %s", normFirst, p.Name())
		}
	}
}

// TestTransformerCachedDecodingMatchesRecomputing decodes greedily with the caches and by running
// the whole decoder for every token, on an untrained model (whose choices are arbitrary, so any
// mismatch in the cache shows).
func TestTransformerCachedDecodingMatchesRecomputing(t *testing.T) {
	for _, normFirst := range []bool{true, false} {
		cfg := tinyTransformerConfig()
		cfg.NormFirst = normFirst
		m, err := NewTransformer(cfg, 5)
		require.NoError(t, err)
		srcs := [][]int{{3, 4, 5, 6, 7}, {8, 9}, {10, 3, 3}}
		ctx := context.Background()
		cached, err := m.translate(ctx, srcs, Decoding{MaxNew: 9}, true)
		require.NoError(t, err)
		plain, err := m.translate(ctx, srcs, Decoding{MaxNew: 9}, false)
		require.NoError(t, err)
		for i := range srcs {
			assert.Equal(t, plain[i].Tokens, cached[i].Tokens, "source %d", i)
			assert.Equal(t, plain[i].Ended, cached[i].Ended)
			assert.InDelta(t, plain[i].LogProb, cached[i].LogProb, 1e-4)
			if !cached[i].Ended {
				assert.Len(t, cached[i].Tokens, 9)
			}
		}
		// the log-probability of the greedy output is what the model's loss says it is
		for i, h := range cached {
			if !h.Ended || slices.Contains(h.Tokens, cfg.PadID) { // the loss would ignore a padding target
				continue
			}
			in := append([]int{cfg.BosID}, h.Tokens...)
			out := append(append([]int{}, h.Tokens...), cfg.EosID)
			loss, err := m.Frozen().Loss(srcs[i], in, out, 1)
			require.NoError(t, err)
			assert.InDelta(t, -float64(loss.Item())*float64(len(out)), h.LogProb, 1e-3, "source %d", i)
		}
	}
}

func TestTransformerBeamSearch(t *testing.T) {
	m, err := LoadTransformer(filepath.Join("testdata", "torch-transformer-preln-gelu"))
	require.NoError(t, err)
	ctx := context.Background()
	srcs := [][]int{{5, 6, 7, 8}, {9, 3}, {4, 12, 18, 6, 11}}
	greedy, err := m.Translate(ctx, srcs, Decoding{MaxNew: 12})
	require.NoError(t, err)
	// a beam of 1 without length penalty is greedy decoding
	one, err := m.Translate(ctx, srcs, Decoding{MaxNew: 12, Beam: 1})
	require.NoError(t, err)
	assert.Equal(t, greedy, one)
	for _, alpha := range []float64{0, 1} {
		beam, err := m.Translate(ctx, srcs, Decoding{MaxNew: 12, Beam: 4, LengthPenalty: alpha})
		require.NoError(t, err)
		for i, src := range srcs {
			// the model reverses its input (it was trained to)
			want := make([]int, len(src))
			for j, s := range src {
				want[len(src)-1-j] = s
			}
			assert.Equal(t, want, beam[i].Tokens, "α=%v source %d", alpha, i)
			assert.True(t, beam[i].Ended)
			// a beam never finds a worse sequence than greedy, which is among its candidates
			assert.GreaterOrEqual(t, beam[i].Score, lengthNormalised(greedy[i], alpha)-1e-5, "the same sequence scores the same up to rounding")
			// batched and alone agree
			alone, err := m.Translate(ctx, [][]int{src}, Decoding{MaxNew: 12, Beam: 4, LengthPenalty: alpha})
			require.NoError(t, err)
			assert.Equal(t, beam[i].Tokens, alone[0].Tokens)
			assert.InDelta(t, beam[i].Score, alone[0].Score, 1e-4)
		}
	}
	// an untrained model: beam search's best score is at least greedy's
	r, err := NewTransformer(tinyTransformerConfig(), 9)
	require.NoError(t, err)
	rs := [][]int{{3, 4, 5}, {6, 7, 8, 9, 10}}
	g, err := r.Translate(ctx, rs, Decoding{MaxNew: 6})
	require.NoError(t, err)
	b, err := r.Translate(ctx, rs, Decoding{MaxNew: 6, Beam: 5})
	require.NoError(t, err)
	for i := range rs {
		assert.GreaterOrEqual(t, b[i].Score, g[i].Score-1e-5, "source %d", i)
	}
}

func TestSaveLoadTransformerRoundTrip(t *testing.T) {
	cfg := tinyTransformerConfig()
	m, err := NewTransformer(cfg, 7)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "model")
	require.NoError(t, SaveTransformer(m, dir))
	got, err := LoadTransformer(dir)
	require.NoError(t, err)
	cfg.EmbeddingScale, cfg.PositionalEncoding, cfg.LayerNormEps = "sqrt(d_model)", "sinusoidal", 1e-5
	assert.Equal(t, cfg, got.Config)
	for i, p := range m.Parameters() {
		assert.Equal(t, p.Value.Values(), got.Parameters()[i].Value.Values(), p.Name())
	}
	a, err := m.Frozen().Forward(tinySrc, tinyTgtIn, 2)
	require.NoError(t, err)
	b, err := got.Frozen().Forward(tinySrc, tinyTgtIn, 2)
	require.NoError(t, err)
	assert.Equal(t, a.Value.Values(), b.Value.Values())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left")
	assert.Error(t, SaveTransformer(nil, dir))
}

// writeTransformerDir writes a model directory whose tensors are edited by edit first.
func writeTransformerDir(t *testing.T, cfg TransformerConfig, edit func(map[string]*tensor.Tensor)) string {
	t.Helper()
	m, err := NewTransformer(cfg, 1)
	require.NoError(t, err)
	dir := t.TempDir()
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644))
	ts := map[string]*tensor.Tensor{}
	for _, p := range m.Parameters() {
		ts[p.Name()] = p.Value
	}
	edit(ts)
	require.NoError(t, safetensors.Save(filepath.Join(dir, "model.safetensors"), ts, nil))
	return dir
}

func TestLoadTransformerRefusesMismatches(t *testing.T) {
	cfg := tinyTransformerConfig()
	for _, c := range []struct {
		edit func(map[string]*tensor.Tensor)
		want string
	}{
		{func(ts map[string]*tensor.Tensor) { delete(ts, "generator.bias") }, `missing tensor "generator.bias"`},
		{func(ts map[string]*tensor.Tensor) { ts["extra"] = tensor.Zeros(1) }, `unexpected tensor "extra"`},
		{func(ts map[string]*tensor.Tensor) { ts["src_embed.weight"] = tensor.Zeros(11, 9) }, `"src_embed.weight" has shape [11 9], want [11 8]`},
		{func(ts map[string]*tensor.Tensor) {
			ts["transformer.decoder.layers.2.norm1.weight"] = tensor.Zeros(8)
		}, `unexpected tensor "transformer.decoder.layers.2.norm1.weight"`},
	} {
		_, err := LoadTransformer(writeTransformerDir(t, cfg, c.edit))
		assert.ErrorContains(t, err, c.want)
	}
	// config.json claims more layers than the file holds
	dir := writeTransformerDir(t, cfg, func(map[string]*tensor.Tensor) {})
	big := cfg
	big.NumDecoderLayers = 1000
	js, _ := json.Marshal(big)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644))
	_, err := LoadTransformer(dir)
	assert.ErrorContains(t, err, "the file holds only")
	// an integer tensor where a float one belongs
	dir = writeTransformerDir(t, cfg, func(map[string]*tensor.Tensor) {})
	_, err = LoadTransformer(t.TempDir())
	assert.ErrorContains(t, err, "config.json")
	st, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	defer st.Close()
	_, err = loadTransformerTensors(cfg, intStore{st, "src_embed.weight"})
	assert.ErrorContains(t, err, `"src_embed.weight" has dtype I64`)
	// the GPT-2 fixture is not a Transformer
	_, err = LoadTransformer(filepath.Join("..", "..", "shared", "testdata", "hf-gpt2-tiny"))
	assert.Error(t, err)
}

// intStore is a store in which one tensor claims an integer dtype.
type intStore struct {
	*safetensors.File
	name string
}

func (s intStore) Dtype(name string) string {
	if name == s.name {
		return "I64"
	}
	return s.File.Dtype(name)
}

// TestTransformerLossFallsUnderSGD takes a few dozen plain SGD steps on one batch and checks
// that the loss falls: the gradients point downhill through the whole model.
func TestTransformerLossFallsUnderSGD(t *testing.T) {
	cfg := tinyTransformerConfig()
	m, err := NewTransformer(cfg, 11)
	require.NoError(t, err)
	first := 0.0
	var last float64
	for step := range 30 {
		loss, err := m.Loss(tinySrc, tinyTgtIn, tinyTgtOut, 2)
		require.NoError(t, err)
		if step == 0 {
			first = float64(loss.Item())
		}
		last = float64(loss.Item())
		loss.Backward()
		for _, p := range m.Parameters() {
			p.Value.AddInPlace(tensor.Scale(p.Grad(), -0.1))
			p.ZeroGrad()
		}
		autograd.Release(loss)
	}
	assert.Less(t, last, first/2, "loss %v → %v", first, last)
}

func TestTransformerCrossAttention(t *testing.T) {
	cfg := tinyTransformerConfig()
	m, err := NewTransformer(cfg, 13)
	require.NoError(t, err)
	src := []int{3, 4, 5, 0, 0} // padded: the padding gets no attention
	tgt := []int{1, 6, 7, 8}
	ws, err := m.CrossAttention(src, tgt)
	require.NoError(t, err)
	require.Len(t, ws, cfg.NumDecoderLayers)
	for _, w := range ws {
		require.Equal(t, []int{cfg.NHead, len(tgt), len(src)}, w.Shape())
		for h := range cfg.NHead {
			for q := range tgt {
				row := w.Index(0, h).Index(0, q).Values()
				assert.InDelta(t, 1, row[0]+row[1]+row[2], 1e-5)
				assert.Equal(t, []float32{0, 0}, row[3:], "padding")
			}
		}
	}
	_, err = m.CrossAttention([]int{3, 99}, tgt)
	assert.ErrorContains(t, err, "source id 99")
}

// TestTransformerInspect checks every family of weights Inspect returns: shapes, rows that sum
// to 1, masks (source padding, the decoder's causal mask), the first layers' weights against the
// attention modules called directly on their inputs, the cross-attention against CrossAttention,
// and the next-token probabilities against a softmax of Forward's logits.
func TestTransformerInspect(t *testing.T) {
	cfg := tinyTransformerConfig() // pre-LN: layer 0 attends over Norm1(embedding)
	m, err := NewTransformer(cfg, 17)
	require.NoError(t, err)
	src := []int{3, 4, 5, 0}
	tgt := []int{1, 6, 7}
	att, err := m.Inspect(src, tgt)
	require.NoError(t, err)
	assert.Equal(t, src, att.Source)
	assert.Equal(t, tgt, att.Target)
	require.Len(t, att.Encoder, cfg.NumEncoderLayers)
	require.Len(t, att.DecoderSelf, cfg.NumDecoderLayers)
	require.Len(t, att.Cross, cfg.NumDecoderLayers)
	rowsSumToOne := func(name string, w *tensor.Tensor, masked func(q, k int) bool) {
		for h := range w.Dim(0) {
			for q := range w.Dim(1) {
				sum := 0.0
				for k := range w.Dim(2) {
					x := w.At(h, q, k)
					if masked(q, k) {
						assert.Zero(t, x, "%s: head %d, (%d, %d) is masked", name, h, q, k)
					}
					sum += float64(x)
				}
				assert.InDelta(t, 1, sum, 1e-5, "%s: head %d, row %d", name, h, q)
			}
		}
	}
	for _, w := range att.Encoder {
		require.Equal(t, []int{cfg.NHead, len(src), len(src)}, w.Shape())
		rowsSumToOne("encoder", w, func(_, k int) bool { return k == 3 })
	}
	for _, w := range att.DecoderSelf {
		require.Equal(t, []int{cfg.NHead, len(tgt), len(tgt)}, w.Shape())
		rowsSumToOne("decoder", w, func(q, k int) bool { return k > q })
	}
	cross, err := m.CrossAttention(src, tgt)
	require.NoError(t, err)
	for l, w := range att.Cross {
		rowsSumToOne("cross", w, func(_, k int) bool { return k == 3 })
		assert.Equal(t, cross[l].Values(), w.Values())
	}

	// the first layers' weights, from the attention modules called directly
	fm := m.Frozen()
	srcPad := []bool{false, false, false, true}
	var want *tensor.Tensor
	keep := func(p *tensor.Tensor) { want = p }
	xs := fm.Encoder[0].AttnNorm.Forward(fm.embed(fm.SrcEmbed, src, 1, len(src), 0))
	fm.Encoder[0].Attn.Forward(xs, nn.AttnInput{KeyPad: srcPad, Weights: keep})
	assertClose(t, "encoder layer 0", att.Encoder[0].Values(), want.Contiguous().Values(), 1e-6, 0)
	xt := fm.Decoder[0].AttnNorm.Forward(fm.embed(fm.TgtEmbed, tgt, 1, len(tgt), 0))
	fm.Decoder[0].Attn.Forward(xt, nn.AttnInput{Weights: keep})
	assertClose(t, "decoder layer 0", att.DecoderSelf[0].Values(), want.Contiguous().Values(), 1e-6, 0)

	// next-token probabilities: a plain softmax, in float64, of the frozen model's logits
	logits, err := fm.Forward(src, tgt, 1)
	require.NoError(t, err)
	v := cfg.TgtVocabSize
	require.Len(t, att.Next, len(tgt))
	for p := range tgt {
		row := logits.Value.Values()[p*v : (p+1)*v]
		sum := 0.0
		for _, x := range row {
			sum += math.Exp(float64(x))
		}
		for j, x := range row {
			assert.InDelta(t, math.Exp(float64(x))/sum, att.Next[p][j], 1e-6, "position %d, id %d", p, j)
		}
	}
	old, err := m.Attention(src, tgt) // the former name
	require.NoError(t, err)
	assert.Equal(t, att.Cross[0].Values(), old.Cross[0].Values())

	_, err = m.Inspect([]int{3, 99}, tgt)
	assert.ErrorContains(t, err, "source id 99")
	_, err = m.Inspect(src, []int{0, 6})
	assert.ErrorContains(t, err, "starts with padding")
	m.Generator.Bias.Value.Fill(float32(math.NaN()))
	_, err = m.Inspect(src, tgt)
	assert.ErrorContains(t, err, "not finite")
}
