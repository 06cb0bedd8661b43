package model

import (
	"archive/zip"
	"bytes"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/internal/torchpickle"
)

// The variants of the Hugging Face fixture that testdata/make_hf_variants.py wrote with torch:
// the same weights in the other layouts LoadHF reads, with wte cut to the first variantVocab rows
// (the full vocabulary is too large to commit three more times) and the tensors listed stored in
// a 16-bit dtype.
const variantVocab = 64

var hfVariants = []struct {
	dir     string
	rounded map[string]string // our parameter name -> the 16-bit dtype it is stored in
}{
	{"pytorch", map[string]string{"wpe.weight": "F16"}},
	{"pytorch-sharded", map[string]string{"h.1.attn.c_proj.weight": "BF16"}},
	{"safetensors-sharded", nil},
}

func variantDir(name string) string { return filepath.Join("testdata", "hf-variants", name) }

// roundTo16 rounds x to the nearest float16 ("F16") or bfloat16 ("BF16") value, ties to even, as
// torch's .half() and .bfloat16() do. It uses math/big rather than the bit tricks of a
// converter, so that it is an independent reference for the values the loader reads.
func roundTo16(x float32, dtype string) float32 {
	prec := uint(8) // bfloat16: 7 stored mantissa bits; its exponent range is float32's
	if dtype == "F16" {
		prec = 11
		// Below float16's smallest normal (2^-14) values are multiples of 2^-24.
		if math.Abs(float64(x)) < 0x1p-14 {
			return float32(math.Copysign(math.RoundToEven(float64(x)*0x1p24)/0x1p24, float64(x)))
		}
	}
	r, _ := new(big.Float).SetPrec(prec).SetMode(big.ToNearestEven).SetFloat64(float64(x)).Float32()
	return r
}

// TestHFVariants: each variant loads to exactly the fixture's parameters (as LoadHF reads them
// from the fixture's model.safetensors), bit for bit, with the 16-bit tensors equal to the
// fixture's values rounded to that dtype.
func TestHFVariants(t *testing.T) {
	ref, err := LoadHF(fixture.HFDir(t))
	require.NoError(t, err)
	refVals := map[string][]float32{}
	for _, p := range ref.Parameters() {
		refVals[p.Name()] = p.Value.Contiguous().Data()
	}
	wantCfg := ref.Config
	wantCfg.VocabSize = variantVocab

	for _, v := range hfVariants {
		t.Run(v.dir, func(t *testing.T) {
			m, err := LoadHF(variantDir(v.dir))
			require.NoError(t, err)
			assert.Equal(t, wantCfg, m.Config)
			params := m.Parameters()
			require.Len(t, params, len(refVals))
			for _, p := range params {
				want := refVals[p.Name()]
				if p.Name() == "wte.weight" {
					want = want[:variantVocab*m.Config.NEmbd]
				}
				if dt := v.rounded[p.Name()]; dt != "" {
					rounded := make([]float32, len(want))
					for i, x := range want {
						rounded[i] = roundTo16(x, dt)
					}
					// The rounding must show, or this would not tell a 16-bit read from a copy.
					require.NotEqual(t, want, rounded, "%s: rounding to %s changes nothing", p.Name(), dt)
					want = rounded
				}
				assert.Equal(t, want, p.Value.Contiguous().Data(), "%s (%s)", p.Name(), v.rounded[p.Name()])
			}
		})
	}
}

// TestHFVariantsHoldWhatTheyClaim checks the committed pytorch_model.bin has the features that
// TestHFVariants is meant to exercise, so it cannot pass on a file that lacks them.
func TestHFVariantsHoldWhatTheyClaim(t *testing.T) {
	path := filepath.Join(variantDir("pytorch"), hfTorchFile)
	f, err := torchpickle.Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, "F16", f.Dtype("transformer.wpe.weight"))
	assert.Equal(t, "BOOL", f.Dtype("transformer.h.0.attn.bias"))
	assert.Equal(t, []int{}, f.Shape("transformer.h.0.attn.masked_bias"))
	assert.True(t, f.Has("lm_head.weight"))
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer zr.Close()
	records := 0
	for _, zf := range zr.File {
		if strings.Contains(zf.Name, "/data/") {
			records++
		}
	}
	// Three pairs share a storage: lm_head and wte, c_attn's weight and bias, the two layers' masks.
	assert.Equal(t, len(f.Names())-3, records, "tensors sharing storages")

	sf, err := torchpickle.Open(filepath.Join(variantDir("pytorch-sharded"), "pytorch_model-00002-of-00002.bin"))
	require.NoError(t, err)
	defer sf.Close()
	assert.Equal(t, "BF16", sf.Dtype("h.1.attn.c_proj.weight"))
}

// TestHFLayoutPreference: with several weight files present, LoadHF reads the first of
// model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json.
// The variants differ in which tensor is rounded, which tells which file was read.
func TestHFLayoutPreference(t *testing.T) {
	load := func(name string) *GPT {
		m, err := LoadHF(variantDir(name))
		require.NoError(t, err)
		return m
	}
	stSharded, pt, ptSharded := load("safetensors-sharded"), load("pytorch"), load("pytorch-sharded")
	same := func(t *testing.T, want, got *GPT) {
		t.Helper()
		for i, p := range want.Parameters() {
			assert.Equal(t, p.Value.Data(), got.Parameters()[i].Value.Data(), p.Name())
		}
	}
	require.NotEqual(t, stSharded.WPE.Weight.Value.Data(), pt.WPE.Weight.Value.Data())

	all := copyDir(t, variantDir("pytorch"), variantDir("pytorch-sharded"), variantDir("safetensors-sharded"))
	m, err := LoadHF(all)
	require.NoError(t, err)
	same(t, stSharded, m)

	require.NoError(t, os.Remove(filepath.Join(all, hfSafetensorsIndex)))
	m, err = LoadHF(all)
	require.NoError(t, err)
	same(t, pt, m)

	require.NoError(t, os.Remove(filepath.Join(all, hfTorchFile)))
	m, err = LoadHF(all)
	require.NoError(t, err)
	same(t, ptSharded, m)

	// model.safetensors beats them all.
	require.NoError(t, SaveHF(pt, all))
	m, err = LoadHF(all)
	require.NoError(t, err)
	same(t, pt, m)
}

// copyDir copies the files of the given directories into one new temporary directory.
func copyDir(t *testing.T, dirs ...string) string {
	t.Helper()
	out := t.TempDir()
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(out, e.Name()), b, 0o644))
		}
	}
	return out
}

// editFile rewrites a file of dir through f.
func editFile(t *testing.T, dir, name string, f func([]byte) []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, f(b), 0o644))
}

// rewriteZip copies a torch.save archive, passing each record through edit (which returns the
// new contents and whether to keep the record).
func rewriteZip(t *testing.T, src []byte, edit func(name string, b []byte) ([]byte, bool)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		rc, err := zf.Open()
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(rc)
		require.NoError(t, err)
		rc.Close()
		nb, keep := edit(zf.Name, b.Bytes())
		if !keep {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Store})
		require.NoError(t, err)
		_, err = w.Write(nb)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return out.Bytes()
}

// TestHFVariantsBadInputs: broken sharded and PyTorch directories are errors that say what is
// wrong, never panics.
func TestHFVariantsBadInputs(t *testing.T) {
	const (
		stIndex, stShard2 = hfSafetensorsIndex, "model-00002-of-00002.safetensors"
		ptIndex, ptShard2 = hfTorchIndex, "pytorch_model-00002-of-00002.bin"
	)
	variant := func(name string, edit func(dir string)) string {
		dir := copyDir(t, variantDir(name))
		edit(dir)
		return dir
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			require.Contains(t, string(b), old)
			return []byte(strings.Replace(string(b), old, new, 1))
		}
	}
	pickle := func(pkl func([]byte) []byte) func(dir string) {
		return func(dir string) {
			editFile(t, dir, hfTorchFile, func(b []byte) []byte {
				return rewriteZip(t, b, func(name string, old []byte) ([]byte, bool) {
					if strings.HasSuffix(name, "/data.pkl") {
						if pkl == nil {
							return nil, false
						}
						return pkl(old), true
					}
					return old, true
				})
			})
		}
	}

	cases := []struct {
		name, dir, want string
	}{
		{"missing safetensors shard", variant("safetensors-sharded", func(dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, stShard2)))
		}), stIndex + ": shard " + stShard2},
		{"missing pytorch shard", variant("pytorch-sharded", func(dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, ptShard2)))
		}), "no such file"},
		{"tensor named twice", variant("pytorch-sharded", func(dir string) {
			editFile(t, dir, ptIndex, replace(`"weight_map": {`, `"weight_map": {"wte.weight": "pytorch_model-00001-of-00002.bin",`))
		}), `names tensor "wte.weight" twice`},
		{"path traversal", variant("safetensors-sharded", func(dir string) {
			// The file exists outside the directory: it must be refused, not read.
			b, err := os.ReadFile(filepath.Join(dir, stShard2))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(dir), stShard2), b, 0o644))
			editFile(t, dir, stIndex, func(b []byte) []byte {
				return []byte(strings.ReplaceAll(string(b), `"`+stShard2+`"`, `"../`+stShard2+`"`))
			})
		}), `"../` + stShard2 + `", which is not a file inside the directory`},
		{"absolute shard path", variant("safetensors-sharded", func(dir string) {
			editFile(t, dir, stIndex, replace(`"`+stShard2+`"`, `"/etc/passwd"`))
		}), "not a file inside the directory"},
		{"shard holds an unlisted tensor", variant("safetensors-sharded", func(dir string) {
			editFile(t, dir, stIndex, replace(`"transformer.ln_f.bias": "`+stShard2+`",`, ``))
		}), `holds tensor "transformer.ln_f.bias", which the index does not list`},
		{"tensor in the wrong shard", variant("pytorch-sharded", func(dir string) {
			editFile(t, dir, ptIndex, replace(`"ln_f.bias": "`+ptShard2+`"`, `"ln_f.bias": "pytorch_model-00001-of-00002.bin"`))
		}), `which the index maps to pytorch_model-00001-of-00002.bin`},
		{"index names a tensor no shard holds", variant("pytorch-sharded", func(dir string) {
			editFile(t, dir, ptIndex, replace(`"weight_map": {`, `"weight_map": {"h.9.ln_1.bias": "pytorch_model-00001-of-00002.bin",`))
		}), `maps tensor "h.9.ln_1.bias" to pytorch_model-00001-of-00002.bin, which does not hold it`},
		{"no weight_map", variant("safetensors-sharded", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, stIndex), []byte(`{"metadata": {}}`), 0o644))
		}), `no "weight_map"`},
		{"bad index JSON", variant("safetensors-sharded", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, stIndex), []byte(`{"weight_map": {"a": `), 0o644))
		}), stIndex},
		{"zip without data.pkl", variant("pytorch", pickle(nil)), "no <name>/data.pkl"},
		{"truncated pickle", variant("pytorch", pickle(func(b []byte) []byte { return b[:len(b)-100] })), "truncated"},
		{"forbidden global", variant("pytorch", pickle(func([]byte) []byte {
			return []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85R.")
		})), "GLOBAL os.system is not allowed"},
		{"missing storage record", variant("pytorch", func(dir string) {
			editFile(t, dir, hfTorchFile, func(b []byte) []byte {
				return rewriteZip(t, b, func(name string, old []byte) ([]byte, bool) {
					return old, !strings.HasSuffix(name, "/data/0")
				})
			})
		}), "missing from the archive"},
		{"legacy torch.save", variant("pytorch", func(dir string) {
			legacy := []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'}
			require.NoError(t, os.WriteFile(filepath.Join(dir, hfTorchFile), legacy, 0o644))
		}), "legacy torch.save format"},
		{"pickle in a shard", variant("pytorch-sharded", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, ptShard2), []byte("not a zip"), 0o644))
		}), "shard " + ptShard2},
		{"shapes checked for pickles", variant("pytorch", func(dir string) {
			editFile(t, dir, configFile, replace(`"n_positions": 32`, `"n_positions": 31`))
		}), `"transformer.wpe.weight" has shape [32 32], want [31 32]`},
		{"no weights at all", variant("pytorch", func(dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, hfTorchFile)))
		}), `none of ["model.safetensors" "model.safetensors.index.json" "pytorch_model.bin" "pytorch_model.bin.index.json"] exists`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { requireLoadHFError(t, c.dir, c.want) })
	}
}
