package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

func TestCorruptFilesAreErrors(t *testing.T) {
	m := newGPT(t, tinyConfig(), 1)
	opt := optimizers[0].make(m)
	trainRange(t, m, opt, rand.NewPCG(1, 2), 0, 1)
	good := t.TempDir()
	require.NoError(t, Save(good, m, State{Step: 1, Optimizer: opt, RNGs: map[string]RNGState{"data": rand.NewPCG(3, 4)}}))

	fresh := func() string { return copyCheckpoint(t, good) }
	config := func(raw map[string]any) map[string]any { return raw["config"].(map[string]any) }
	optimizer := func(raw map[string]any) map[string]any { return raw["optimizer"].(map[string]any) }

	cases := map[string]struct {
		damage func(dir string)
		want   string
	}{
		"missing dir": {func(dir string) { require.NoError(t, os.RemoveAll(dir)) }, "no such file"},
		"garbage json": {func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, File), []byte("{\x00garbage"), 0o644))
		}, "not a valid checkpoint"},
		"truncated json": {func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, File))
			require.NoError(t, os.WriteFile(filepath.Join(dir, File), b[:len(b)/2], 0o644))
		}, "not a valid checkpoint"},
		"trailing garbage": {func(dir string) {
			f, err := os.OpenFile(filepath.Join(dir, File), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString("{}")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, "not a valid checkpoint"},
		"huge json": {func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, File), make([]byte, maxJSON+1), 0o644))
		}, "larger than"},
		"other format":         {editJSON(t, func(raw map[string]any) { raw["format"] = "pickle" }), "format"},
		"old version":          {editJSON(t, func(raw map[string]any) { raw["version"] = 1 }), "version 1, this build reads version 2"},
		"future version":       {editJSON(t, func(raw map[string]any) { raw["version"] = 3 }), "version 3"},
		"unknown kind":         {editJSON(t, func(raw map[string]any) { raw["kind"] = "rnn" }), `unknown kind of model "rnn"`},
		"bad config":           {editJSON(t, func(raw map[string]any) { config(raw)["NHead"] = 3 }), "not divisible"},
		"unknown config field": {editJSON(t, func(raw map[string]any) { config(raw)["NExperts"] = 3 }), "NExperts"},
		"huge config": {editJSON(t, func(raw map[string]any) {
			config(raw)["NEmbd"] = 1 << 40
			config(raw)["NHead"] = 1
		}), "more than the"},
		"wide config": {editJSON(t, func(raw map[string]any) { // within the library's bound, not the file's
			config(raw)["NEmbd"] = 1 << 14
			config(raw)["NHead"] = 1
		}), "too few"},
		"absurd layer count": {editJSON(t, func(raw map[string]any) { config(raw)["NLayer"] = 1 << 40 }), "more than the"},
		"many layers":        {editJSON(t, func(raw map[string]any) { config(raw)["NLayer"] = 1 << 20 }), "too few"},
		"mismatched config":  {editJSON(t, func(raw map[string]any) { config(raw)["VocabSize"] = 12 }), "wte.weight has shape"},
		"fewer layers":       {editJSON(t, func(raw map[string]any) { config(raw)["NLayer"] = 1 }), "unexpected tensor h.1."},
		"path in tensor name": {editJSON(t, func(raw map[string]any) {
			raw["tensors"] = "../" + raw["tensors"].(string)
		}), "invalid tensor file name"},
		"negative step":   {editJSON(t, func(raw map[string]any) { raw["step"] = -1 }), "negative step"},
		"bad dropout rng": {editJSON(t, func(raw map[string]any) { raw["rng"].(map[string]any)[DropoutRNG] = "AAAA" }), `RNG "dropout"`},
		"no dropout rng":  {editJSON(t, func(raw map[string]any) { delete(raw["rng"].(map[string]any), DropoutRNG) }), "dropout generator"},
		"missing tensor file": {func(dir string) {
			require.NoError(t, os.Remove(tensorPath(t, dir)))
		}, "no such file"},
		"truncated tensor file": {func(dir string) {
			p := tensorPath(t, dir)
			b, _ := os.ReadFile(p)
			require.NoError(t, os.WriteFile(p, b[:len(b)-100], 0o644))
		}, "checksum mismatch"},
		"flipped bit": {func(dir string) {
			p := tensorPath(t, dir)
			b, _ := os.ReadFile(p)
			b[len(b)-3] ^= 1
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, "checksum mismatch"},
		"garbage tensor file": {func(dir string) {
			junk := []byte("\xff\xff\xff\xff\xff\xff\xff\xffgarbage")
			require.NoError(t, os.WriteFile(tensorPath(t, dir), junk, 0o644))
			sum := sha256.Sum256(junk)
			raw := readRaw(t, dir)
			raw["tensors_sha256"] = hex.EncodeToString(sum[:])
			writeRaw(t, dir, raw)
		}, "safetensors"},
		"missing parameter": {func(dir string) {
			rewriteTensors(t, dir, func(ts map[string]*tensor.Tensor) {
				delete(ts, "h.1.ln_2.bias")
				ts["h.1.extra"] = tensor.Zeros(8)
			})
		}, "h.1.ln_2.bias is missing"},
		"extra tensor": {func(dir string) {
			rewriteTensors(t, dir, func(ts map[string]*tensor.Tensor) { ts["h.9.ln_2.bias"] = tensor.Zeros(8) })
		}, "unexpected tensor h.9.ln_2.bias"},
		"wrong moment shape": {func(dir string) {
			rewriteTensors(t, dir, func(ts map[string]*tensor.Tensor) { ts["optim.v.ln_f.bias"] = tensor.Zeros(9) })
		}, "optim.v.ln_f.bias has shape [9]"},
		"moment of an unknown slot": {func(dir string) {
			rewriteTensors(t, dir, func(ts map[string]*tensor.Tensor) { ts["optim.w.ln_f.bias"] = tensor.Zeros(8) })
		}, "unexpected tensor optim.w.ln_f.bias"},
		"moment of no parameter": {func(dir string) {
			rewriteTensors(t, dir, func(ts map[string]*tensor.Tensor) { ts["optim.m.nope"] = tensor.Zeros(8) })
		}, "unexpected tensor optim.m.nope"},
		"moments without optimizer": {editJSON(t, func(raw map[string]any) { delete(raw, "optimizer") }), "no optimizer was saved"},
		"state for no parameter": {editJSON(t, func(raw map[string]any) {
			optimizer(raw)["params"] = append(optimizer(raw)["params"].([]any), "h.7.attn.c_attn.weight")
		}), "h.7.attn.c_attn.weight, which is not a parameter"},
		"parameter twice": {editJSON(t, func(raw map[string]any) {
			ps := optimizer(raw)["params"].([]any)
			ps[1] = ps[0]
		}), "listed twice"},
		"fewer step counts": {editJSON(t, func(raw map[string]any) {
			optimizer(raw)["steps"] = optimizer(raw)["steps"].([]any)[1:]
		}), "step counts for"},
		"negative optimizer step": {editJSON(t, func(raw map[string]any) {
			optimizer(raw)["steps"].([]any)[0] = -1
		}), "step count -1 for wte.weight"},
		"decay of no parameter": {editJSON(t, func(raw map[string]any) {
			optimizer(raw)["decayed"] = []any{"nope"}
		}), "decayed parameter nope"},
		"slot with a dot": {editJSON(t, func(raw map[string]any) {
			optimizer(raw)["slots"] = []any{"m", "v", "a.b"}
		}), `slot name "a.b"`},
		"no optimizer kind": {editJSON(t, func(raw map[string]any) { optimizer(raw)["kind"] = "" }), "no kind"},
		"non-finite hyperparameter": {func(dir string) {
			b, err := os.ReadFile(filepath.Join(dir, File))
			require.NoError(t, err)
			s := strings.Replace(string(b), `"lr": `, `"lr": 1e999, "was": `, 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, File), []byte(s), 0o644))
		}, "not a valid checkpoint"},
	}
	for name, c := range cases {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := fresh()
			c.damage(dir)
			ck, err := Load(dir)
			assert.Nil(t, ck)
			assert.ErrorContains(t, err, c.want)
		})
	}
	_, err := Load(fresh())
	assert.NoError(t, err, "the undamaged copy loads")

	// a caller's generator state is opaque to the checkpoint: RestoreRNG is where a bad one shows
	dir := fresh()
	raw := readRaw(t, dir)
	raw["rng"].(map[string]any)["data"] = "AAAA"
	writeRaw(t, dir, raw)
	ck, err := Load(dir)
	require.NoError(t, err)
	g := rand.NewPCG(5, 6)
	assert.ErrorContains(t, ck.RestoreRNG("data", g), `"data"`)
	assert.Equal(t, rand.NewPCG(5, 6).Uint64(), g.Uint64(), "a failed restore leaves the generator as it was")
}

// copyCheckpoint returns a copy of the checkpoint in good, to damage.
func copyCheckpoint(t *testing.T, good string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{File, tensorFile(t, good)} {
		b, err := os.ReadFile(filepath.Join(good, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir
}

// rewriteTensors replaces the tensor file of the checkpoint in dir with its tensors as edit
// leaves them, with a matching checksum, so that the checks behind the checksum are reached.
func rewriteTensors(t *testing.T, dir string, edit func(ts map[string]*tensor.Tensor)) {
	t.Helper()
	p := tensorPath(t, dir)
	ts, _, err := loadSafetensors(p)
	require.NoError(t, err)
	edit(ts)
	require.NoError(t, safetensors.Save(p, ts, nil))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	raw := readRaw(t, dir)
	raw["tensors_sha256"] = hex.EncodeToString(sum[:])
	writeRaw(t, dir, raw)
}

// editJSON returns a damage that edits the checkpoint.json of a checkpoint as a JSON object.
func editJSON(t *testing.T, edit func(raw map[string]any)) func(dir string) {
	return func(dir string) {
		raw := readRaw(t, dir)
		edit(raw)
		writeRaw(t, dir, raw)
	}
}

// loadSafetensors reads every tensor of a safetensors file.
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
