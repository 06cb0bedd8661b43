package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func dropoutConfig() Config {
	c := tinyConfig()
	c.Dropout = 0.2
	return c
}

var ckptAdamW = optim.AdamWConfig{LR: 1e-2, Betas: [2]float32{0.9, 0.99}, WeightDecay: 0.1}

// trainRange runs iterations [from, to) of a small training loop whose batches are drawn from data.
func trainRange(t *testing.T, m *GPT, opt *optim.AdamW, data *rand.PCG, from, to int) {
	t.Helper()
	const b, tt = 3, 5
	rng := rand.New(data)
	sched := optim.CosineSchedule{WarmupIters: 2, DecayIters: 10, MaxLR: 1e-2, MinLR: 1e-3}
	for it := from; it < to; it++ {
		ids := make([]int, b*tt)
		targets := make([]int, b*tt)
		for i := range ids {
			ids[i] = rng.IntN(m.Config.VocabSize)
			targets[i] = (ids[i]*3 + 1) % m.Config.VocabSize
		}
		loss, err := m.Loss(ids, targets, b, tt)
		require.NoError(t, err)
		loss.Backward()
		optim.ClipGradNorm(m.Parameters(), 1.0)
		opt.SetLR(sched.LR(it))
		opt.Step()
		opt.ZeroGrad()
	}
}

func paramBits(m *GPT) map[string][]uint32 {
	out := map[string][]uint32{}
	for _, p := range m.Parameters() {
		for _, v := range p.Value.Values() {
			out[p.Name()] = append(out[p.Name()], math.Float32bits(v))
		}
	}
	return out
}

func TestCheckpointResumeIsBitwiseIdentical(t *testing.T) {
	const n = 8
	cfg := dropoutConfig()

	straight, err := New(cfg, 1)
	require.NoError(t, err)
	trainRange(t, straight, optim.NewAdamW(straight.Parameters(), ckptAdamW), rand.NewPCG(5, 6), 0, n)

	first, err := New(cfg, 1)
	require.NoError(t, err)
	opt := optim.NewAdamW(first.Parameters(), ckptAdamW)
	data := rand.NewPCG(5, 6)
	trainRange(t, first, opt, data, 0, n/2)
	dir := t.TempDir()
	require.NoError(t, SaveCheckpoint(dir, first, TrainState{
		Step: n / 2, Optimizer: opt, RNGs: map[string]RNGState{"data": data}, Meta: map[string]string{"vocab": "abc\n"},
	}))

	ck, err := LoadCheckpoint(dir)
	require.NoError(t, err)
	assert.Equal(t, n/2, ck.Step)
	assert.Equal(t, cfg, ck.Config)
	assert.Equal(t, "abc\n", ck.Meta["vocab"])
	assert.True(t, ck.HasOptimizer())
	oc, ok := ck.Optimizer()
	require.True(t, ok)
	assert.Equal(t, opt.LR(), oc.AdamW.LR)
	assert.Equal(t, ckptAdamW.Betas, oc.AdamW.Betas)
	assert.Equal(t, ckptAdamW.WeightDecay, oc.AdamW.WeightDecay)
	assert.Equal(t, opt.Config().Eps, oc.AdamW.Eps)
	var decayed []string
	for _, p := range first.Parameters() {
		if p.Value.Dims() >= 2 {
			decayed = append(decayed, p.Name())
		}
	}
	assert.Equal(t, decayed, oc.Decayed)

	// Resume into a model and optimizer built fresh, with another seed, and a data generator in
	// another state: everything that matters must come from the checkpoint.
	resume := func(scrambleDropout bool) *GPT {
		m, err := New(cfg, 99)
		require.NoError(t, err)
		o := optim.NewAdamW(m.Parameters(), ckptAdamW)
		require.NoError(t, ck.Restore(m, o))
		if scrambleDropout {
			m.dropoutSrc.Seed(7, 7)
		}
		d := rand.NewPCG(0, 0)
		require.NoError(t, ck.RestoreRNG("data", d))
		trainRange(t, m, o, d, ck.Step, n)
		return m
	}
	assert.Equal(t, paramBits(straight), paramBits(resume(false)))
	// The dropout generator's state matters: without it training diverges (so the test can fail).
	assert.NotEqual(t, paramBits(straight), paramBits(resume(true)))

	// Model() builds the same weights as the saved model had.
	m, err := ck.Model()
	require.NoError(t, err)
	assert.Equal(t, paramBits(first), paramBits(m))
}

func TestCheckpointWeightsOnly(t *testing.T) {
	m, err := New(tinyConfig(), 4)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, SaveCheckpoint(dir, m, TrainState{}))
	ck, err := LoadCheckpoint(dir)
	require.NoError(t, err)
	assert.False(t, ck.HasOptimizer())
	_, ok := ck.Optimizer()
	assert.False(t, ok)
	m2, err := New(tinyConfig(), 5)
	require.NoError(t, err)
	assert.ErrorContains(t, ck.Restore(m2, optim.NewAdamW(m2.Parameters(), ckptAdamW)), "no optimizer state")
	assert.NotEqual(t, paramBits(m), paramBits(m2), "a failed Restore changes nothing")
	require.NoError(t, ck.Restore(m2, nil))
	assert.Equal(t, paramBits(m), paramBits(m2))
	assert.ErrorContains(t, ck.RestoreRNG("data", rand.NewPCG(1, 1)), "no RNG")

	// The tensor file is plain safetensors with Hugging Face names.
	ts, _, err := loadSafetensors(filepath.Join(dir, tensorFileOf(t, dir)))
	require.NoError(t, err)
	assert.Contains(t, ts, "h.1.mlp.c_proj.weight")

	other := tinyConfig()
	other.NEmbd = 12
	m3, err := New(other, 1)
	require.NoError(t, err)
	assert.ErrorContains(t, ck.Restore(m3, nil), "does not match")
}

func tensorFileOf(t *testing.T, dir string) string {
	t.Helper()
	raw := readJSON(t, dir)
	name, ok := raw["tensors"].(string)
	require.True(t, ok)
	return name
}

// loadSafetensors reads every tensor of the safetensors file at path, with its metadata.
func loadSafetensors(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	ts := map[string]*tensor.Tensor{}
	for _, name := range f.Names() {
		if ts[name], err = f.Float32(name); err != nil {
			return nil, nil, err
		}
	}
	return ts, f.Metadata(), nil
}

func readJSON(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	return raw
}

func writeJSON(t *testing.T, dir string, raw map[string]any) {
	t.Helper()
	b, err := json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, CheckpointFile), b, 0o644))
}

func TestCheckpointFailedSaveKeepsPrevious(t *testing.T) {
	cfg := dropoutConfig()
	m, err := New(cfg, 1)
	require.NoError(t, err)
	opt := optim.NewAdamW(m.Parameters(), ckptAdamW)
	dir := t.TempDir()
	trainRange(t, m, opt, rand.NewPCG(1, 2), 0, 2)
	require.NoError(t, SaveCheckpoint(dir, m, TrainState{Step: 2, Optimizer: opt}))
	saved := paramBits(m)
	trainRange(t, m, opt, rand.NewPCG(1, 2), 2, 4)

	for _, stage := range []string{"tensors", "json"} {
		saveHook = func(s string) error {
			if s == stage {
				return errors.New("simulated failure")
			}
			return nil
		}
		err := SaveCheckpoint(dir, m, TrainState{Step: 4, Optimizer: opt})
		saveHook = nil
		require.ErrorContains(t, err, "simulated failure", stage)

		ck, err := LoadCheckpoint(dir)
		require.NoError(t, err, stage)
		assert.Equal(t, 2, ck.Step, stage)
		got, err := ck.Model()
		require.NoError(t, err)
		assert.Equal(t, saved, paramBits(got), stage)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 2, "%s: a failed save leaves no files behind", stage)
	}

	// A save that succeeds replaces the checkpoint and removes the old tensor file.
	old := tensorFileOf(t, dir)
	require.NoError(t, SaveCheckpoint(dir, m, TrainState{Step: 4, Optimizer: opt}))
	assert.NoFileExists(t, filepath.Join(dir, old))
	ck, err := LoadCheckpoint(dir)
	require.NoError(t, err)
	assert.Equal(t, 4, ck.Step)

	// A directory that cannot be created (a file is in the way) is an error, not a panic.
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	assert.Error(t, SaveCheckpoint(filepath.Join(file, "ckpt"), m, TrainState{}))

	// A frozen view is not a training state.
	assert.ErrorContains(t, SaveCheckpoint(t.TempDir(), m.Frozen(), TrainState{}), "frozen")
	assert.ErrorContains(t, SaveCheckpoint(t.TempDir(), m, TrainState{Step: -1}), "negative step")
}

func TestCheckpointCorruptFilesAreErrors(t *testing.T) {
	m, err := New(tinyConfig(), 1)
	require.NoError(t, err)
	opt := optim.NewAdamW(m.Parameters(), ckptAdamW)
	trainRange(t, m, opt, rand.NewPCG(1, 2), 0, 1)
	good := t.TempDir()
	require.NoError(t, SaveCheckpoint(good, m, TrainState{Step: 1, Optimizer: opt, RNGs: map[string]RNGState{"data": rand.NewPCG(3, 4)}}))

	// fresh returns a copy of the good checkpoint to damage.
	fresh := func() string {
		dir := t.TempDir()
		for _, name := range []string{CheckpointFile, tensorFileOf(t, good)} {
			b, err := os.ReadFile(filepath.Join(good, name))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		}
		return dir
	}
	// rewriteTensors replaces the tensor file with the given tensors, with a matching checksum,
	// so that the checks behind the checksum are reached.
	rewriteTensors := func(dir string, edit func(ts map[string]*tensor.Tensor)) {
		name := tensorFileOf(t, dir)
		ts, _, err := loadSafetensors(filepath.Join(dir, name))
		require.NoError(t, err)
		edit(ts)
		require.NoError(t, safetensors.Save(filepath.Join(dir, name), ts, nil))
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		raw := readJSON(t, dir)
		raw["tensors_sha256"] = hex.EncodeToString(sum[:])
		writeJSON(t, dir, raw)
	}

	cases := map[string]struct {
		damage func(dir string)
		want   string
	}{
		"missing dir": {func(dir string) { require.NoError(t, os.RemoveAll(dir)) }, "no such file"},
		"garbage json": {func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, CheckpointFile), []byte("{\x00garbage"), 0o644))
		}, "not a valid checkpoint"},
		"truncated json": {func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
			require.NoError(t, os.WriteFile(filepath.Join(dir, CheckpointFile), b[:len(b)/2], 0o644))
		}, "not a valid checkpoint"},
		"trailing garbage": {func(dir string) {
			f, err := os.OpenFile(filepath.Join(dir, CheckpointFile), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString("{}")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, "not a valid checkpoint"},
		"other format": {func(dir string) {
			raw := readJSON(t, dir)
			raw["format"] = "pickle"
			writeJSON(t, dir, raw)
		}, "format"},
		"future version": {func(dir string) {
			raw := readJSON(t, dir)
			raw["version"] = 2
			writeJSON(t, dir, raw)
		}, "version 2"},
		"bad config": {func(dir string) {
			raw := readJSON(t, dir)
			raw["config"].(map[string]any)["NHead"] = 3
			writeJSON(t, dir, raw)
		}, "not divisible"},
		"huge config": {func(dir string) {
			raw := readJSON(t, dir)
			raw["config"].(map[string]any)["NEmbd"] = 1 << 14
			raw["config"].(map[string]any)["NHead"] = 1
			writeJSON(t, dir, raw)
		}, "too few"},
		"mismatched config": {func(dir string) {
			raw := readJSON(t, dir)
			raw["config"].(map[string]any)["VocabSize"] = 12
			writeJSON(t, dir, raw)
		}, "wte.weight has shape"},
		"path in tensor name": {func(dir string) {
			raw := readJSON(t, dir)
			raw["tensors"] = "../" + raw["tensors"].(string)
			writeJSON(t, dir, raw)
		}, "invalid tensor file name"},
		"bad dropout rng": {func(dir string) {
			raw := readJSON(t, dir)
			raw["rng"].(map[string]any)[DropoutRNG] = "AAAA"
			writeJSON(t, dir, raw)
		}, `RNG "dropout"`},
		"missing tensor file": {func(dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, tensorFileOf(t, dir))))
		}, "no such file"},
		"truncated tensor file": {func(dir string) {
			p := filepath.Join(dir, tensorFileOf(t, dir))
			b, _ := os.ReadFile(p)
			require.NoError(t, os.WriteFile(p, b[:len(b)-100], 0o644))
		}, "checksum mismatch"},
		"flipped bit": {func(dir string) {
			p := filepath.Join(dir, tensorFileOf(t, dir))
			b, _ := os.ReadFile(p)
			b[len(b)-3] ^= 1
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, "checksum mismatch"},
		"garbage tensor file": {func(dir string) {
			p := filepath.Join(dir, tensorFileOf(t, dir))
			require.NoError(t, os.WriteFile(p, []byte("\xff\xff\xff\xff\xff\xff\xff\xffgarbage"), 0o644))
			sum := sha256.Sum256([]byte("\xff\xff\xff\xff\xff\xff\xff\xffgarbage"))
			raw := readJSON(t, dir)
			raw["tensors_sha256"] = hex.EncodeToString(sum[:])
			writeJSON(t, dir, raw)
		}, "safetensors"},
		"missing parameter": {func(dir string) {
			rewriteTensors(dir, func(ts map[string]*tensor.Tensor) {
				delete(ts, "h.1.ln_2.bias")
				ts["h.1.extra"] = tensor.Zeros(8)
			})
		}, "h.1.ln_2.bias is missing"},
		"extra tensor": {func(dir string) {
			rewriteTensors(dir, func(ts map[string]*tensor.Tensor) { ts["h.9.ln_2.bias"] = tensor.Zeros(8) })
		}, "unexpected tensor"},
		"wrong moment shape": {func(dir string) {
			rewriteTensors(dir, func(ts map[string]*tensor.Tensor) { ts["optim.v.ln_f.bias"] = tensor.Zeros(9) })
		}, "optimizer moment for ln_f.bias"},
		"moment without steps": {func(dir string) {
			raw := readJSON(t, dir)
			delete(raw["optim_steps"].(map[string]any), "wte.weight")
			writeJSON(t, dir, raw)
		}, "without step counts"},
		"bad optimizer config": {func(dir string) {
			raw := readJSON(t, dir)
			raw["optim"].(map[string]any)["betas"] = []any{0.9}
			writeJSON(t, dir, raw)
		}, "1 betas"},
		"non-finite optimizer config": {func(dir string) {
			raw := readJSON(t, dir)
			raw["optim"].(map[string]any)["lr"] = "1e999"
			writeJSON(t, dir, raw)
		}, "bad number"},
		"negative optimizer step": {func(dir string) {
			raw := readJSON(t, dir)
			raw["optim_steps"].(map[string]any)["wte.weight"] = -1
			writeJSON(t, dir, raw)
		}, "step count -1"},
	}
	for name, c := range cases {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := fresh()
			c.damage(dir)
			ck, err := LoadCheckpoint(dir)
			assert.Nil(t, ck)
			assert.ErrorContains(t, err, c.want)
		})
	}
	_, err = LoadCheckpoint(fresh())
	assert.NoError(t, err, "the undamaged copy loads")

	// a caller's generator state is opaque to the checkpoint: RestoreRNG is where a bad one shows
	dir := fresh()
	raw := readJSON(t, dir)
	raw["rng"].(map[string]any)["data"] = "AAAA"
	writeJSON(t, dir, raw)
	ck, err := LoadCheckpoint(dir)
	require.NoError(t, err)
	g := rand.NewPCG(5, 6)
	assert.ErrorContains(t, ck.RestoreRNG("data", g), `"data"`)
	assert.Equal(t, rand.NewPCG(5, 6).Uint64(), g.Uint64(), "a failed restore leaves the generator as it was")
}
