package model

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/goformer/goformer/nn"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// maxErr compares got with want element-wise against abs ≤ atol + rtol·|want| and returns the
// largest absolute error, the largest ratio of error to allowance, and the first offending index
// (-1 if none).
func maxErr(got, want []float32, atol, rtol float64) (worst, ratio float64, bad int) {
	bad = -1
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		allow := atol + rtol*math.Abs(float64(want[i]))
		if d > worst || math.IsNaN(d) {
			worst = d
		}
		if r := d / allow; r > ratio || math.IsNaN(d) {
			ratio = r
		}
		if (d > allow || math.IsNaN(d)) && bad < 0 {
			bad = i
		}
	}
	return worst, ratio, bad
}

func assertClose(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if !assert.Equal(t, len(want), len(got), "%s: length", what) {
		return
	}
	worst, ratio, bad := maxErr(got, want, atol, rtol)
	t.Logf("%-48s max abs err %.3g (%.2g of the tolerance)", what, worst, ratio)
	if bad >= 0 {
		assert.Failf(t, "not close", "%s: element %d is %v, want %v (abs ≤ %g + %g·|want|); max abs err %.3g",
			what, bad, got[bad], want[bad], atol, rtol, worst)
	}
}

func ints(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// hfNext returns the Hugging Face loss targets for ids (B, T): position t predicts id t+1; the
// last position of each row has no target.
func hfNext(ids []int, b, t int) []int {
	out := make([]int, len(ids))
	for r := range b {
		for j := range t {
			if j == t-1 {
				out[r*t+j] = IgnoreIndex
			} else {
				out[r*t+j] = ids[r*t+j+1]
			}
		}
	}
	return out
}

// isConv1D reports whether GPT-2 builds the layer of a weight as a Conv1D (stored [in, out]): an
// independent statement of what hfLayout derives from the model's description.
func isConv1D(name string) bool {
	if !strings.HasSuffix(name, ".weight") {
		return false
	}
	for _, s := range []string{".attn.c_attn.", ".attn.c_proj.", ".mlp.c_fc.", ".mlp.c_proj."} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func TestHFLayoutTransposesExactlyTheConv1DWeights(t *testing.T) {
	layout := hfLayout(Config{VocabSize: 5, BlockSize: 4, NLayer: 2, NHead: 2, NEmbd: 4, NoBias: true})
	require.Len(t, layout, 2+12*2+2, "GPT-2's layout always has biases")
	for _, l := range layout {
		assert.Equal(t, isConv1D(l.name), l.conv1d, l.name)
	}
}

// hfValue returns our parameter's value in Hugging Face's layout (Conv1D weights transposed).
func hfValue(name string, v *tensor.Tensor) []float32 {
	if isConv1D(name) {
		v = v.T()
	}
	return v.Contiguous().Data()
}

// Tolerances for the parity test. The reference is float32 PyTorch on a CPU; we compute the same
// float32 math with other summation orders (blocked matmuls, float64 loss accumulation), so the
// results differ by a few ulps per op, growing through 2 layers. Logits are O(1) and the loss is
// about ln V ≈ 10.8: 1e-4 absolute + 1e-4 relative is ~100× what float32 rounding produces here,
// yet far below any real bug (a wrong epsilon, GELU form or transpose moves them by 1e-3 or
// more). Gradients are sums over the batch of products of those values and span many magnitudes
// (wte's rows for unused tokens are tiny, the head's contribution is not), so they get
// 1e-4 + 1e-3·|ref|, still 10-20× tighter than llm.c's 1e-2/2e-2. The AdamW parameters after three
// steps get the same as logits: AdamW's normalised step (≈ lr per element) hides small gradient
// differences, except where v ≈ 0, which random data does not produce.
const (
	parityAtol, parityRtol         = 1e-4, 1e-4
	parityGradAtol, parityGradRtol = 1e-4, 1e-3
)

func TestHFParity(t *testing.T) {
	dir := fixture.HFDir(t)
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	require.NoError(t, err)
	defer ref.Close()
	f32 := func(name string) []float32 {
		t.Helper()
		v, err := ref.Float32(name)
		require.NoError(t, err, name)
		return v.Data()
	}

	m, err := LoadHF(dir)
	require.NoError(t, err)
	cfg := m.Config
	t.Logf("config from config.json: %+v", cfg)

	ids64, idShape, err := ref.Int64("input_ids")
	require.NoError(t, err)
	require.Len(t, idShape, 2)
	b, tt := idShape[0], idShape[1]
	ids := ints(ids64)
	targets := hfNext(ids, b, tt)

	t.Run("logits", func(t *testing.T) {
		require.Equal(t, []int{b, tt, cfg.VocabSize}, ref.Shape("logits"))
		logits, err := m.Forward(ids, b, tt)
		require.NoError(t, err)
		assert.Equal(t, []int{b, tt, cfg.VocabSize}, logits.Shape())
		assertClose(t, "logits", logits.Value.Contiguous().Data(), f32("logits"), parityAtol, parityRtol)
	})

	t.Run("loss and gradients", func(t *testing.T) {
		zeroGrad(m)
		loss, err := m.Loss(ids, targets, b, tt)
		require.NoError(t, err)
		assertClose(t, "loss", []float32{loss.Item()}, f32("loss"), parityAtol, parityRtol)
		loss.Backward()
		params := m.Parameters()
		n := 0
		for _, p := range params {
			name := "grad." + hfPrefix + p.Name()
			if !ref.Has(name) {
				continue
			}
			n++
			require.NotNil(t, p.Grad(), p.Name())
			require.Equal(t, ref.Shape(name), (hfTensor{shape: p.Shape(), conv1d: isConv1D(p.Name())}).storedShape(), name)
			assertClose(t, name, hfValue(p.Name(), p.Grad()), f32(name), parityGradAtol, parityGradRtol)
		}
		assert.Equal(t, len(params), n, "the reference should hold the gradient of every parameter")
		zeroGrad(m)
	})

	t.Run("adamw", func(t *testing.T) {
		m, err := LoadHF(dir) // fresh weights
		require.NoError(t, err)
		want := f32("adamw.losses")
		opt := optim.NewAdamW(m.Parameters(), optim.AdamWConfig{
			LR: 1e-3, Betas: [2]float32{0.9, 0.95}, Eps: 1e-8, WeightDecay: 0.1,
			Decay: optim.DecayMatrices,
		})
		var got []float32
		for range want {
			loss, err := m.Loss(ids, targets, b, tt)
			require.NoError(t, err)
			got = append(got, loss.Item())
			loss.Backward()
			optim.ClipGradNorm(m.Parameters(), 1.0)
			opt.Step()
			opt.ZeroGrad()
		}
		assertClose(t, "adamw.losses", got, want, parityAtol, parityRtol)
		n := 0
		for _, p := range m.Parameters() {
			name := "adamw.after." + hfPrefix + p.Name()
			if !ref.Has(name) {
				continue
			}
			n++
			assertClose(t, name, hfValue(p.Name(), p.Value), f32(name), parityAtol, parityRtol)
		}
		assert.Positive(t, n, "the reference should hold some parameters after the AdamW steps")
	})

	t.Run("greedy", func(t *testing.T) {
		prompt64, _, err := ref.Int64("greedy.prompt")
		require.NoError(t, err)
		want64, wantShape, err := ref.Int64("greedy.output")
		require.NoError(t, err)
		prompt, want := ints(prompt64), ints(want64)
		newTokens, err := m.GenerateAll(context.Background(), prompt, Sampling{MaxNew: wantShape[1] - len(prompt)})
		require.NoError(t, err)
		assert.Equal(t, want, append(prompt, newTokens...))
		t.Logf("greedy: %d of %d tokens equal", countEqual(want, append(prompt, newTokens...)), len(want))
	})
}

func countEqual(a, b []int) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

// TestHFFixtureLayout checks that SaveHF writes what transformers wrote for the fixture: the same
// names, dtypes, shapes and metadata, the same bytes for every tensor after a load, and a
// config.json whose computational fields agree.
func TestHFFixtureLayout(t *testing.T) {
	dir := fixture.HFDir(t)
	m, err := LoadHF(dir)
	require.NoError(t, err)
	out := t.TempDir()
	require.NoError(t, SaveHF(m, out))

	orig, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	defer orig.Close()
	ours, err := safetensors.Open(filepath.Join(out, "model.safetensors"))
	require.NoError(t, err)
	defer ours.Close()
	assert.Equal(t, orig.Names(), ours.Names())
	assert.Equal(t, map[string]string{"format": "pt"}, ours.Metadata())
	for _, name := range orig.Names() {
		assert.Equal(t, orig.Shape(name), ours.Shape(name), name)
		assert.Equal(t, "F32", ours.Dtype(name), name)
		a, err := orig.Float32(name)
		require.NoError(t, err)
		b, err := ours.Float32(name)
		require.NoError(t, err)
		assert.True(t, slices.Equal(a.Data(), b.Data()), "%s differs after load and save", name)
	}

	// The fields that decide the computation read back the same.
	origCfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	ourCfg, err := os.ReadFile(filepath.Join(out, "config.json"))
	require.NoError(t, err)
	var a, b map[string]any
	require.NoError(t, json.Unmarshal(origCfg, &a))
	require.NoError(t, json.Unmarshal(ourCfg, &b))
	for _, k := range []string{"model_type", "architectures", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head",
		"layer_norm_epsilon", "activation_function", "resid_pdrop", "embd_pdrop", "attn_pdrop", "tie_word_embeddings",
		"n_inner", "scale_attn_weights", "bos_token_id", "eos_token_id"} {
		assert.Equal(t, a[k], b[k], "config.json field %s", k)
	}
}

// TestHFRoundTrip: export → import gives identical tensors and the same config.
func TestHFRoundTrip(t *testing.T) {
	for _, cfg := range []Config{
		{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8, GELUTanh: true},
		{VocabSize: 7, BlockSize: 5, NLayer: 1, NHead: 3, NEmbd: 6, LayerNormEps: 1e-6, Dropout: 0.1},
	} {
		m, err := New(cfg, 42)
		require.NoError(t, err)
		dir := filepath.Join(t.TempDir(), "out") // SaveHF creates it
		require.NoError(t, SaveHF(m, dir))
		got, err := LoadHF(dir)
		require.NoError(t, err)
		want := cfg
		if want.LayerNormEps == 0 {
			want.LayerNormEps = 1e-5 // written explicitly
		}
		assert.Equal(t, want, got.Config)
		gp, mp := got.Parameters(), m.Parameters()
		require.Equal(t, len(mp), len(gp))
		for i := range mp {
			assert.Equal(t, mp[i].Name(), gp[i].Name())
			assert.Equal(t, mp[i].Shape(), gp[i].Shape(), mp[i].Name())
			assert.True(t, slices.Equal(mp[i].Value.Data(), gp[i].Value.Data()), "%s differs", mp[i].Name())
		}
		// Same function: same logits.
		ids := []int{1, 2, 3, 4}
		a, err := m.Frozen().Forward(ids, 1, 4)
		require.NoError(t, err)
		b, err := got.Frozen().Forward(ids, 1, 4)
		require.NoError(t, err)
		assert.Equal(t, a.Value.Data(), b.Value.Data())
	}
}

// TestHFNoBiasExportsZeroBiases: a bias-free model is written with zero biases (GPT-2 always
// has them), which compute the same function.
func TestHFNoBiasExportsZeroBiases(t *testing.T) {
	cfg := Config{VocabSize: 11, BlockSize: 8, NLayer: 1, NHead: 2, NEmbd: 8, NoBias: true}
	m, err := New(cfg, 3)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, SaveHF(m, dir))
	got, err := LoadHF(dir)
	require.NoError(t, err)
	assert.False(t, got.Config.NoBias)
	ids := []int{3, 1, 4, 1, 5}
	a, err := m.Frozen().Forward(ids, 1, 5)
	require.NoError(t, err)
	b, err := got.Frozen().Forward(ids, 1, 5)
	require.NoError(t, err)
	worst, _, _ := maxErr(b.Value.Data(), a.Value.Data(), 0, 0)
	assert.Less(t, worst, 1e-6)
}

// TestHFLoadMatchesNew: the loader assembles the same structure as New.
func TestHFLoadMatchesNew(t *testing.T) {
	cfg := Config{VocabSize: 13, BlockSize: 6, NLayer: 3, NHead: 2, NEmbd: 4}
	m, err := New(cfg, 1)
	require.NoError(t, err)
	vals := map[string]*tensor.Tensor{}
	for _, p := range m.Parameters() {
		vals[p.Name()] = p.Value
	}
	got, err := assembleGPT(cfg, vals)
	require.NoError(t, err)
	var a, b []string
	for _, p := range m.Parameters() {
		a = append(a, fmt.Sprint(p.Name(), p.Shape()))
	}
	for _, p := range got.Parameters() {
		b = append(b, fmt.Sprint(p.Name(), p.Shape()))
	}
	assert.Equal(t, a, b)
	var layout []string
	for _, l := range hfLayout(cfg) {
		layout = append(layout, fmt.Sprint(l.name, l.shape))
	}
	assert.Equal(t, a, layout)
	x, err := m.Frozen().Forward([]int{1, 2, 3}, 1, 3)
	require.NoError(t, err)
	y, err := got.Frozen().Forward([]int{1, 2, 3}, 1, 3)
	require.NoError(t, err)
	assert.Equal(t, x.Value.Data(), y.Value.Data())
}

// writeST writes a safetensors file with the given tensors in the given dtypes ("F32", "F16",
// "BF16") and shapes, so that tests can build files our writer would not produce.
func writeST(t *testing.T, path string, names []string, dtypes []string, vals [][]float32, shapes [][]int) {
	t.Helper()
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for i, name := range names {
		start := len(data)
		for _, v := range vals[i] {
			switch dtypes[i] {
			case "F32":
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			case "BF16":
				data = binary.LittleEndian.AppendUint16(data, uint16(math.Float32bits(v)>>16))
			case "F16":
				data = binary.LittleEndian.AppendUint16(data, float32ToHalf(v))
			case "I64":
				data = binary.LittleEndian.AppendUint64(data, uint64(int64(v)))
			default:
				t.Fatalf("writeST: dtype %s", dtypes[i])
			}
		}
		hdr[name] = map[string]any{"dtype": dtypes[i], "shape": shapes[i], "data_offsets": []int{start, len(data)}}
	}
	h, err := json.Marshal(hdr)
	require.NoError(t, err)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	out = append(out, data...)
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

// float32ToHalf converts values that are exactly representable in float16 (tests use such values).
func float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	if f == 0 {
		return sign
	}
	if exp <= 0 || exp >= 31 || mant&0x1fff != 0 {
		panic(fmt.Sprintf("float32ToHalf: %v is not a normal float16", f))
	}
	return sign | uint16(exp)<<10 | uint16(mant>>13)
}

// hubStyleDir writes m as the original openai-community/gpt2 files look: no "transformer."
// prefix, attention buffers present, lm_head optionally stored, each tensor in dtype.
func hubStyleDir(t *testing.T, m *GPT, dtype string, lmHead bool) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, SaveHF(m, dir))
	tensors, err := hfTensors(m)
	require.NoError(t, err)
	var names, dtypes []string
	var vals [][]float32
	var shapes [][]int
	for name, v := range tensors {
		names = append(names, strings.TrimPrefix(name, hfPrefix))
		dtypes = append(dtypes, dtype)
		vals = append(vals, v.Data())
		shapes = append(shapes, v.Shape())
	}
	bt := m.Config.BlockSize
	for i := range m.Config.NLayer {
		mask := make([]float32, bt*bt)
		names = append(names, fmt.Sprintf("h.%d.attn.bias", i), fmt.Sprintf("h.%d.attn.masked_bias", i))
		dtypes = append(dtypes, "F32", "F32")
		vals = append(vals, mask, []float32{-1e4})
		shapes = append(shapes, []int{1, 1, bt, bt}, []int{})
	}
	if lmHead {
		names = append(names, "lm_head.weight")
		dtypes = append(dtypes, dtype)
		vals = append(vals, m.WTE.Weight.Value.Data())
		shapes = append(shapes, m.WTE.Weight.Shape())
	}
	writeST(t, filepath.Join(dir, "model.safetensors"), names, dtypes, vals, shapes)
	return dir
}

func TestHFLoadHubLayoutAndDtypes(t *testing.T) {
	cfg := Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8, GELUTanh: true}
	m, err := New(cfg, 9)
	require.NoError(t, err)
	for _, p := range m.Parameters() { // make every value visible in 8 bits: N(0, 0.02) mostly rounds to 0
		d := p.Value.Data()
		for i := range d {
			d[i] = float32((i*7+len(p.Name()))%41-20) / 16
		}
	}
	for _, dtype := range []string{"F32", "F16", "BF16"} {
		for _, lmHead := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lm_head=%v", dtype, lmHead), func(t *testing.T) {
				got, err := LoadHF(hubStyleDir(t, m, dtype, lmHead))
				require.NoError(t, err)
				gp, mp := got.Parameters(), m.Parameters()
				require.Equal(t, len(mp), len(gp))
				for i := range mp {
					assert.Equal(t, mp[i].Value.Data(), gp[i].Value.Data(), mp[i].Name())
				}
			})
		}
	}
}

// TestHFBadInputs: every kind of broken directory is an error that says what is wrong, never a
// panic.
func TestHFBadInputs(t *testing.T) {
	cfg := Config{VocabSize: 11, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8, GELUTanh: true}
	m, err := New(cfg, 9)
	require.NoError(t, err)
	good := t.TempDir()
	require.NoError(t, SaveHF(m, good))
	goodCfg, err := os.ReadFile(filepath.Join(good, "config.json"))
	require.NoError(t, err)
	tensors, err := hfTensors(m)
	require.NoError(t, err)

	// withConfig returns a dir with the good weights and config.json edited by f.
	withConfig := func(f func(map[string]any)) string {
		var c map[string]any
		require.NoError(t, json.Unmarshal(goodCfg, &c))
		f(c)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644))
		require.NoError(t, os.Link(filepath.Join(good, "model.safetensors"), filepath.Join(dir, "model.safetensors")))
		return dir
	}
	// withTensors returns a dir with the good config and the tensors edited by f.
	withTensors := func(f func(map[string]*tensor.Tensor)) string {
		ts := map[string]*tensor.Tensor{}
		for k, v := range tensors {
			ts[k] = v
		}
		f(ts)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), goodCfg, 0o644))
		require.NoError(t, safetensors.Save(filepath.Join(dir, "model.safetensors"), ts, nil))
		return dir
	}
	missingWeights := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(missingWeights, "config.json"), goodCfg, 0o644))
	badJSON := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(badJSON, "config.json"), []byte(`{"model_type": "gpt2",`), 0o644))
	truncated := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(truncated, "config.json"), goodCfg, 0o644))
	w, err := os.ReadFile(filepath.Join(good, "model.safetensors"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(truncated, "model.safetensors"), w[:len(w)-10], 0o644))
	intTensor := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(intTensor, "config.json"), goodCfg, 0o644))
	{
		var names, dtypes []string
		var vals [][]float32
		var shapes [][]int
		for name, v := range tensors {
			dt := "F32"
			if name == "transformer.ln_f.bias" {
				dt = "I64"
			}
			names, dtypes, vals, shapes = append(names, name), append(dtypes, dt), append(vals, make([]float32, v.Size())), append(shapes, v.Shape())
		}
		writeST(t, filepath.Join(intTensor, "model.safetensors"), names, dtypes, vals, shapes)
	}

	cases := []struct {
		name, dir, want string
	}{
		{"no dir", filepath.Join(t.TempDir(), "nope"), "config.json"},
		{"no weights", missingWeights, "model.safetensors"},
		{"bad json", badJSON, "config.json"},
		{"truncated weights", truncated, "safetensors"},
		{"unknown model type", withConfig(func(c map[string]any) { c["model_type"] = "bert" }), `model_type "bert"`},
		{"no model type", withConfig(func(c map[string]any) { delete(c, "model_type") }), "model_type"},
		{"unknown architecture", withConfig(func(c map[string]any) { c["architectures"] = []string{"LlamaForCausalLM"} }), "LlamaForCausalLM"},
		{"missing n_embd", withConfig(func(c map[string]any) { delete(c, "n_embd") }), "n_embd"},
		{"negative n_head", withConfig(func(c map[string]any) { c["n_head"] = -2 }), "n_head"},
		{"fractional n_layer", withConfig(func(c map[string]any) { c["n_layer"] = 1.5 }), "n_layer"},
		{"huge n_layer", withConfig(func(c map[string]any) { c["n_layer"] = 1 << 40 }), "NLayer 1099511627776"},
		{"indivisible heads", withConfig(func(c map[string]any) { c["n_head"] = 3 }), "divisible"},
		{"no positions", withConfig(func(c map[string]any) { delete(c, "n_positions") }), "n_ctx"},
		{"activation", withConfig(func(c map[string]any) { c["activation_function"] = "relu" }), "relu"},
		{"n_inner", withConfig(func(c map[string]any) { c["n_inner"] = 7 }), "n_inner"},
		{"vocab mismatch", withConfig(func(c map[string]any) { c["vocab_size"] = 1 << 20 }), "wte.weight"},
		{"layer count mismatch", withConfig(func(c map[string]any) { c["n_layer"] = 1 }), `unexpected tensor "transformer.h.1.`},
		{"missing tensor", withTensors(func(ts map[string]*tensor.Tensor) { delete(ts, "transformer.h.1.mlp.c_fc.bias") }), `missing tensor "transformer.h.1.mlp.c_fc.bias"`},
		{"not transposed", withTensors(func(ts map[string]*tensor.Tensor) {
			ts["transformer.h.0.attn.c_attn.weight"] = ts["transformer.h.0.attn.c_attn.weight"].T().Contiguous()
		}), `"transformer.h.0.attn.c_attn.weight" has shape [24 8], want [8 24]`},
		{"untied head", withTensors(func(ts map[string]*tensor.Tensor) { ts["lm_head.weight"] = tensor.Zeros(11, 8) }), "untied"},
		{"both spellings", withTensors(func(ts map[string]*tensor.Tensor) { ts["wpe.weight"] = ts["transformer.wpe.weight"] }), "both with and without"},
		{"integer weights", intTensor, "dtype I64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { requireLoadHFError(t, c.dir, c.want) })
	}
}

// TestSaveHFIsAtomic: a failing save leaves the previous files as they were and no temporary
// files behind.
func TestSaveHFIsAtomic(t *testing.T) {
	cfg := Config{VocabSize: 11, BlockSize: 8, NLayer: 1, NHead: 2, NEmbd: 8}
	m, err := New(cfg, 1)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, SaveHF(m, dir))
	before := map[string][]byte{}
	for _, f := range []string{"config.json", "model.safetensors"} {
		before[f], err = os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
	}
	// A model whose parameters cannot be written as GPT-2 fails before touching the directory.
	bad, err := New(cfg, 2)
	require.NoError(t, err)
	bad.LnF.(*nn.LayerNorm).Weight.Value = tensor.Zeros(3)
	assert.Error(t, SaveHF(bad, dir))
	// A read-only directory fails when creating the temporary files.
	if os.Getuid() != 0 { // root ignores permissions
		other, err := New(cfg, 3)
		require.NoError(t, err)
		require.NoError(t, os.Chmod(dir, 0o555))
		assert.Error(t, SaveHF(other, dir))
		require.NoError(t, os.Chmod(dir, 0o755))
	}
	for f, b := range before {
		got, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, b, got, "%s changed", f)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"config.json", "model.safetensors"}, names)
}

func TestParseHFConfig(t *testing.T) {
	cfg, err := ParseHFConfig([]byte(`{"model_type":"gpt2","vocab_size":50257,"n_ctx":1024,"n_embd":768,"n_layer":12,"n_head":12,
		"activation_function":"gelu","layer_norm_epsilon":1e-6,"resid_pdrop":0.1,"embd_pdrop":0.1,"attn_pdrop":0.1,"n_inner":null}`))
	require.NoError(t, err)
	assert.Equal(t, Config{VocabSize: 50257, BlockSize: 1024, NLayer: 12, NHead: 12, NEmbd: 768,
		Dropout: 0.1, LayerNormEps: 1e-6, GELUTanh: false}, cfg)
	cfg, err = ParseHFConfig([]byte(`{"model_type":"gpt2","vocab_size":5,"n_positions":4,"n_ctx":99,"n_embd":4,"n_layer":1,"n_head":1,
		"activation_function":"gelu_pytorch_tanh"}`))
	require.NoError(t, err)
	assert.Equal(t, 4, cfg.BlockSize, "n_positions wins over n_ctx")
	assert.True(t, cfg.GELUTanh)
	_, err = ParseHFConfig([]byte(`[]`))
	assert.Error(t, err)
	// an untied output head would be silently replaced by wte: refused
	_, err = ParseHFConfig([]byte(`{"model_type":"gpt2","vocab_size":5,"n_positions":4,"n_embd":4,"n_layer":1,"n_head":1,
		"tie_word_embeddings":false}`))
	assert.ErrorContains(t, err, "tie_word_embeddings")
	_, err = ParseHFConfig([]byte(`{"model_type":"gpt2","vocab_size":5,"n_positions":4,"n_embd":4,"n_layer":1,"n_head":1,
		"tie_word_embeddings":true}`))
	assert.NoError(t, err)
}

// requireLoadHFError checks that LoadHF refuses dir, without panicking, with an error that
// contains want.
func requireLoadHFError(t *testing.T, dir, want string) {
	t.Helper()
	var err error
	require.NotPanics(t, func() { _, err = LoadHF(dir) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), want)
	t.Log(err)
}
