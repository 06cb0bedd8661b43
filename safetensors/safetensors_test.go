package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stFile assembles a safetensors file from a raw header string and data bytes.
func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// parse reads a safetensors file held in memory.
func parse(b []byte) (*File, error) { return Read(bytes.NewReader(b), int64(len(b))) }

// loadAll opens path and reads every tensor as float32, with the metadata.
func loadAll(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	f, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	out := map[string]*tensor.Tensor{}
	for _, name := range f.Names() {
		if out[name], err = f.Float32(name); err != nil {
			return nil, nil, err
		}
	}
	return out, f.Metadata(), nil
}

func TestHFModel(t *testing.T) {
	dir := fixture.HFDir(t)
	var ref struct {
		Config struct {
			VocabSize  int `json:"vocab_size"`
			NPositions int `json:"n_positions"`
			NEmbd      int `json:"n_embd"`
			NLayer     int `json:"n_layer"`
			Batch      int `json:"batch"`
			Seq        int `json:"seq"`
		} `json:"config"`
		Loss         float64   `json:"loss"`
		AdamWLosses  []float64 `json:"adamw_losses"`
		GreedyOutput [][]int64 `json:"greedy_output"`
		ParamNames   []string  `json:"param_names"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &ref))
	c := ref.Config
	require.Equal(t, 32, c.NEmbd, "the expected shapes below assume the fixture's documented config")

	st, err := Open(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	defer st.Close()
	assert.ElementsMatch(t, ref.ParamNames, st.Names(), "model.safetensors holds exactly the parameters reference.json lists")
	assert.Equal(t, map[string]string{"format": "pt"}, st.Metadata())

	// Expected shapes from the config and GPT-2's layout (Conv1D weights are [in, out]), an
	// independent listing of what save_pretrained writes.
	E := c.NEmbd
	want := map[string][]int{
		"transformer.wte.weight":  {c.VocabSize, E},
		"transformer.wpe.weight":  {c.NPositions, E},
		"transformer.ln_f.weight": {E}, "transformer.ln_f.bias": {E},
	}
	for l := range c.NLayer {
		p := "transformer.h." + string(rune('0'+l)) + "."
		want[p+"ln_1.weight"], want[p+"ln_1.bias"] = []int{E}, []int{E}
		want[p+"ln_2.weight"], want[p+"ln_2.bias"] = []int{E}, []int{E}
		want[p+"attn.c_attn.weight"], want[p+"attn.c_attn.bias"] = []int{E, 3 * E}, []int{3 * E}
		want[p+"attn.c_proj.weight"], want[p+"attn.c_proj.bias"] = []int{E, E}, []int{E}
		want[p+"mlp.c_fc.weight"], want[p+"mlp.c_fc.bias"] = []int{E, 4 * E}, []int{4 * E}
		want[p+"mlp.c_proj.weight"], want[p+"mlp.c_proj.bias"] = []int{4 * E, E}, []int{E}
	}
	require.Len(t, want, len(ref.ParamNames))
	tensors := map[string]*tensor.Tensor{}
	for name, shape := range want {
		assert.Equal(t, "F32", st.Dtype(name), name)
		assert.Equal(t, shape, st.Shape(name), name)
		x, err := st.Float32(name)
		require.NoError(t, err, name)
		assert.Equal(t, shape, x.Shape(), name)
		tensors[name] = x
	}
	// LayerNorm weights start at exactly 1 and biases at 0 in a fresh HF GPT-2.
	assert.Equal(t, tensor.Ones(E).Values(), tensors["transformer.ln_f.weight"].Values())
	assert.Equal(t, tensor.Zeros(E).Values(), tensors["transformer.ln_f.bias"].Values())

	// Round trip: write, read back, identical names, shapes, metadata and bits.
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, tensors, map[string]string{"format": "pt"}))
	back, err := parse(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, st.Names(), back.Names())
	assert.Equal(t, map[string]string{"format": "pt"}, back.Metadata())
	for name, x := range tensors {
		y, err := back.Float32(name)
		require.NoError(t, err)
		assert.Equal(t, x.Shape(), y.Shape(), name)
		assert.True(t, bitsEqual(x.Values(), y.Values()), name)
	}
	// Our layout matches the reference writer's for an all-F32 file (name order, padding), so
	// the bytes are identical to what save_pretrained wrote.
	orig, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(orig, buf.Bytes()), "re-encoded model.safetensors differs from the original bytes")

	// reference.safetensors: int64 token ids and scalars that reference.json repeats.
	rst, err := Open(filepath.Join(dir, "reference.safetensors"))
	require.NoError(t, err)
	defer rst.Close()
	ids, shape, err := rst.Int64("input_ids")
	require.NoError(t, err)
	assert.Equal(t, []int{c.Batch, c.Seq}, shape)
	for _, id := range ids {
		assert.True(t, id >= 0 && id < int64(c.VocabSize), "token id %d out of vocabulary", id)
	}
	out, shape, err := rst.Int64("greedy.output")
	require.NoError(t, err)
	assert.Equal(t, []int{1, len(ref.GreedyOutput[0])}, shape)
	assert.Equal(t, ref.GreedyOutput[0], out)
	loss, err := rst.Float32("loss")
	require.NoError(t, err)
	assert.Equal(t, float32(ref.Loss), loss.Item())
	losses, err := rst.Float32("adamw.losses")
	require.NoError(t, err)
	for i, l := range ref.AdamWLosses {
		assert.Equal(t, float32(l), losses.Values()[i])
	}
	assert.Equal(t, []int{c.Batch, c.Seq, c.VocabSize}, rst.Shape("logits"))
	_, _, err = rst.Int64("logits")
	assert.ErrorContains(t, err, "not an integer dtype")
	// Token ids are small, so they convert to float32 exactly.
	idsF, err := rst.Float32("input_ids")
	require.NoError(t, err)
	assert.Equal(t, float32(ids[0]), idsF.Values()[0])
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestMixedDtypes reads testdata/mixed.safetensors, written by gen_mixed.py with
// Python's struct module (an encoder independent of this package).
func TestMixedDtypes(t *testing.T) {
	st, err := Open(filepath.Join("testdata", "mixed.safetensors"))
	require.NoError(t, err)
	defer st.Close()
	assert.Equal(t, []string{"bf16", "bool", "f16", "f32_empty", "f32_scalar", "f64", "i32", "i64", "u8"}, st.Names())
	assert.Equal(t, map[string]string{"format": "pt", "note": "<a&b>"}, st.Metadata())

	f := func(name string) *tensor.Tensor {
		x, err := st.Float32(name)
		require.NoError(t, err, name)
		return x
	}
	f16 := f("f16")
	assert.Equal(t, []int{2, 3}, f16.Shape())
	assert.Equal(t, []float32{1, -2, 65504, 5.960464477539063e-08, 0.333251953125, 0}, f16.Values())
	assert.True(t, math.Signbit(float64(f16.Values()[5])), "-0 keeps its sign")
	assert.Equal(t, []float32{1, -2, 3.140625, 9.183549615799121e-41}, f("bf16").Values())
	assert.Equal(t, []float32{0.1, -1e10}, f("f64").Values())
	sc := f("f32_scalar")
	assert.Equal(t, 0, sc.Dims())
	assert.Equal(t, float32(42.5), sc.Item())
	assert.Equal(t, []int{0, 3}, f("f32_empty").Shape())
	assert.Equal(t, []float32{-7, 0, 16777216}, f("i32").Values())
	assert.Equal(t, []float32{0, 255}, f("u8").Values())
	assert.Equal(t, []float32{1, 0, 1}, f("bool").Values())
	_, err = st.Float32("i64") // holds 2^40, which float32 cannot hold exactly
	assert.ErrorContains(t, err, "not exactly representable")

	i64, shape, err := st.Int64("i64")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2}, shape)
	assert.Equal(t, []int64{1, -2, 1 << 40, 50256}, i64)
	i32, _, err := st.Int64("i32")
	require.NoError(t, err)
	assert.Equal(t, []int64{-7, 0, 16777216}, i32)
	_, _, err = st.Int64("f16")
	assert.Error(t, err)
	_, err = st.Float32("missing")
	assert.ErrorContains(t, err, "no tensor named")
	assert.False(t, st.Has("missing"))
	assert.Nil(t, st.Shape("missing"))
	assert.Equal(t, "", st.Dtype("missing"))
}

func TestFloat16ToFloat32(t *testing.T) {
	// Known bit patterns (values cross-checked with Python's struct '<e' format).
	cases := []struct {
		bits uint16
		want float32
	}{
		{0x3C00, 1}, {0xC000, -2}, {0x3800, 0.5}, {0x3555, 0.333251953125},
		{0x7BFF, 65504},                  // largest finite
		{0x0400, 6.103515625e-05},        // smallest normal, 2^-14
		{0x03FF, 6.097555160522461e-05},  // largest subnormal, 1023·2^-24
		{0x0200, 3.0517578125e-05},       // subnormal 2^-15
		{0x0001, 5.960464477539063e-08},  // smallest subnormal, 2^-24
		{0x8001, -5.960464477539063e-08}, // negative subnormal
		{0x7C00, float32(math.Inf(1))},   // +Inf
		{0xFC00, float32(math.Inf(-1))},  // -Inf
		{0x0000, 0},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Float16ToFloat32(c.bits), "0x%04X", c.bits)
	}
	assert.True(t, math.Signbit(float64(Float16ToFloat32(0x8000))), "0x8000 is -0")
	for _, nan := range []uint16{0x7E00, 0x7C01, 0xFE00, 0x7FFF} {
		assert.True(t, math.IsNaN(float64(Float16ToFloat32(nan))), "0x%04X is NaN", nan)
	}

	// Every one of the 65536 patterns against the textbook definition, evaluated in float64:
	// (-1)^s · 2^(e-15) · (1 + m/1024) for normal numbers, (-1)^s · 2^-14 · (m/1024) for subnormals.
	for h := range 1 << 16 {
		s, e, m := h>>15, (h>>10)&0x1f, h&0x3ff
		got := Float16ToFloat32(uint16(h))
		if e == 0x1f {
			if m == 0 {
				assert.True(t, math.IsInf(float64(got), 1-2*s), "0x%04X", h)
			} else {
				assert.True(t, math.IsNaN(float64(got)), "0x%04X", h)
			}
			continue
		}
		var want float64
		if e == 0 {
			want = math.Ldexp(float64(m)/1024, -14)
		} else {
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		if float64(got) != want || math.Signbit(float64(got)) != (s == 1) {
			t.Fatalf("Float16ToFloat32(0x%04X) = %g, want %g", h, got, want)
		}
	}
}

func TestBFloat16ToFloat32(t *testing.T) {
	cases := []struct {
		bits uint16
		want float32
	}{
		{0x3F80, 1}, {0xC000, -2}, {0x4049, 3.140625}, {0x0000, 0},
		{0x0001, 9.183549615799121e-41},  // smallest subnormal, 2^-133
		{0x7F7F, 3.3895313892515355e+38}, // largest finite
		{0x7F80, float32(math.Inf(1))},
		{0xFF80, float32(math.Inf(-1))},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, BFloat16ToFloat32(c.bits), "0x%04X", c.bits)
	}
	assert.True(t, math.IsNaN(float64(BFloat16ToFloat32(0x7FC0))))
	assert.True(t, math.Signbit(float64(BFloat16ToFloat32(0x8000))))
}

func TestWriteLayout(t *testing.T) {
	var buf bytes.Buffer
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	require.NoError(t, Write(&buf, map[string]*tensor.Tensor{
		"b":   x.Transpose(0, 1), // a non-contiguous view is written in its logical order
		"a":   tensor.Scalar(-1),
		"a<b": tensor.Zeros(0),
	}, map[string]string{"step": "7"}))
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	assert.Zero(t, n%8, "header padded to 8 bytes")
	header := string(b[8 : 8+n])
	assert.Equal(t, `{"__metadata__":{"step":"7"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},`+
		`"a<b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[3,2],"data_offsets":[4,28]}}`,
		strings.TrimRight(header, " "))
	data := b[8+n:]
	require.Len(t, data, 28)
	var got []float32
	for i := 0; i < len(data); i += 4 {
		got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(data[i:])))
	}
	assert.Equal(t, []float32{-1, 1, 4, 2, 5, 3, 6}, got)

	assert.Error(t, Write(&buf, map[string]*tensor.Tensor{"__metadata__": tensor.Scalar(1)}, nil))
	assert.Error(t, Write(&buf, map[string]*tensor.Tensor{"": tensor.Scalar(1)}, nil))
	assert.Error(t, Write(&buf, map[string]*tensor.Tensor{"x": nil}, nil))
	assert.Error(t, Write(failWriter{}, map[string]*tensor.Tensor{"x": tensor.Zeros(100000)}, nil))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	first := map[string]*tensor.Tensor{"w": tensor.FromSlice([]float32{1, 2}, 2)}
	require.NoError(t, Save(path, first, nil))
	loaded, meta, err := loadAll(path)
	require.NoError(t, err)
	assert.Nil(t, meta)
	assert.Equal(t, []float32{1, 2}, loaded["w"].Values())

	// A save that fails part-way (a nil tensor is found before anything is written; a failing
	// rename is simulated by making the target a directory) leaves the old file in place and no
	// temporary files behind.
	require.Error(t, Save(path, map[string]*tensor.Tensor{"w": nil}, nil))
	loaded, _, err = loadAll(path)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2}, loaded["w"].Values())
	sub := filepath.Join(dir, "isdir")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644))
	require.Error(t, Save(sub, first, nil))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"ckpt.safetensors", "isdir"}, names, "no temporary file left behind")

	require.NoError(t, Save(path, map[string]*tensor.Tensor{"w": tensor.FromSlice([]float32{3}, 1)}, map[string]string{"k": "v"}))
	loaded, meta, err = loadAll(path)
	require.NoError(t, err)
	assert.Equal(t, []float32{3}, loaded["w"].Values())
	assert.Equal(t, map[string]string{"k": "v"}, meta)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	_, _, err = loadAll(filepath.Join(dir, "absent.safetensors"))
	assert.Error(t, err)
}

func TestBadInput(t *testing.T) {
	f32 := func(vals ...float32) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	hugeLen := binary.LittleEndian.AppendUint64(nil, math.MaxUint64)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"truncated length", []byte{1, 0, 0}, "too short"},
		{"header longer than file", stFile(`{}`, nil)[:9], "header claims"},
		{"huge header length", append(hugeLen, "{}"...), "header claims"},
		{"bad JSON", stFile(`{"a":`, nil), "JSON"},
		{"not an object", stFile(`[1,2]`, nil), "not a JSON object"},
		{"trailing garbage", stFile(`{} x`, nil), "trailing"},
		{"unknown dtype", stFile(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), "unsupported dtype"},
		{"missing shape", stFile(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f32(1)), "missing shape"},
		{"negative dim", stFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32(1)), "non-negative"},
		{"fractional dim", stFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32(1)), "non-negative"},
		{"shape/size mismatch", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, f32(1)), "needs 8 bytes"},
		{"huge shape", stFile(`{"a":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,4]}}`, f32(1)), "needs 4000000000000000000 bytes"},
		{"huger shape", stFile(`{"a":{"dtype":"F32","shape":[3000000000,1000000000],"data_offsets":[0,4]}}`, f32(1)), "needs more than 2^63 bytes"},
		{"shape product overflows", stFile(`{"a":{"dtype":"F32","shape":[1000000000000,1000000000000],"data_offsets":[0,4]}}`, f32(1)), "too large"},
		{"shape overflows int64", stFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}`, f32(1)), "too large"},
		{"dim beyond int64", stFile(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, f32(1)), "non-negative"},
		{"offsets past end", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1)), "outside"},
		{"offsets reversed", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, f32(1, 2)), "outside"},
		{"negative offset", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, f32(1)), "non-negative"},
		{"three offsets", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32(1, 2)), "[begin, end]"},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), "overlap"},
		{"duplicate name", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), "twice"},
		{"metadata not strings", stFile(`{"__metadata__":{"a":1}}`, nil), "strings to strings"},
		{"entry not an object", stFile(`{"a":7}`, nil), "bad entry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := parse(c.file)
			assert.Nil(t, st)
			assert.ErrorContains(t, err, c.want)
		})
	}

	// Valid edge cases: padding, empty tensors sharing an offset, holes between tensors.
	st, err := parse(stFile(`{"e":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]},"f":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"g":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}   `, f32(9, 9, 3)))
	require.NoError(t, err)
	g, err := st.Float32("g")
	require.NoError(t, err)
	assert.Equal(t, []float32{3}, g.Values())

	// A reader that fails after the header was validated reports the error.
	file := stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1))
	st, err = Read(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	st.r = bytes.NewReader(file[:len(file)-2])
	_, err = st.Float32("a")
	assert.ErrorContains(t, err, "unexpected EOF")
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(&buf, map[string]*tensor.Tensor{"a": tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2), "s": tensor.Scalar(5)}, map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	if mixed, err := os.ReadFile(filepath.Join("testdata", "mixed.safetensors")); err == nil {
		f.Add(mixed)
	}
	f.Add(stFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"U64","shape":[1],"data_offsets":[4,12]}}`,
		[]byte{0, 0x3c, 0, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parse(data)
		if err != nil {
			return
		}
		for _, name := range st.Names() {
			x, err := st.Float32(name)
			if err == nil && x.Size()*dtypeSizes[st.Dtype(name)] > len(data) {
				t.Fatalf("tensor %q of %d elements decoded from a %d-byte file", name, x.Size(), len(data))
			}
			st.Int64(name)
		}
		// Whatever parsed must survive a round trip through the writer (as F32).
		all := map[string]*tensor.Tensor{}
		for _, name := range st.Names() {
			if x, err := st.Float32(name); err == nil && name != "" { // the writer rejects empty names
				all[name] = x
			}
		}
		var out bytes.Buffer
		if err := Write(&out, all, st.Metadata()); err != nil {
			t.Fatalf("re-encoding a parsed file: %v", err)
		}
		back, err := parse(out.Bytes())
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		for name, x := range all {
			y, err := back.Float32(name)
			if err != nil || !bitsEqual(x.Values(), y.Values()) {
				t.Fatalf("tensor %q changed in the round trip: %v", name, err)
			}
		}
	})
}
