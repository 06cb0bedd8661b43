package torchpickle

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refTensor is one entry of the JSON that testdata/make_testdata.py writes: what torch itself
// reads back from the .pt file beside it.
type refTensor struct {
	Dtype  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

func loadRef(t *testing.T, stem string) map[string]refTensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", stem+".json"))
	require.NoError(t, err)
	var ref map[string]refTensor
	require.NoError(t, json.Unmarshal(b, &ref))
	return ref
}

// TestReadsWhatTorchWrote compares every tensor of files torch.save wrote with the values torch
// reads back from them: dtypes, shapes and values bit for bit, through transposes, slices at an
// offset, tied names, scalars, empty tensors and Parameters.
func TestReadsWhatTorchWrote(t *testing.T) {
	for _, stem := range []string{"tensors", "proto4"} {
		t.Run(stem, func(t *testing.T) {
			ref := loadRef(t, stem)
			f, err := Open(filepath.Join("testdata", stem+".pt"))
			require.NoError(t, err)
			defer f.Close()
			var want []string
			for name := range ref {
				want = append(want, name)
			}
			sort.Strings(want)
			assert.Equal(t, want, f.Names())
			for _, name := range want {
				r := ref[name]
				assert.True(t, f.Has(name), name)
				assert.Equal(t, r.Dtype, f.Dtype(name), name)
				assert.Equal(t, r.Shape, f.Shape(name), name)
				got, err := f.Float32(name)
				switch r.Dtype {
				case "F32", "F16", "BF16", "F64":
					require.NoError(t, err, name)
					wantVals := make([]float32, len(r.Values))
					for i, v := range r.Values {
						wantVals[i] = float32(v) // exact except for F64, which rounds as the reader must
					}
					assert.Equal(t, wantVals, got, name)
				default:
					assert.ErrorContains(t, err, "cannot be read as float32", name)
				}
			}
			assert.False(t, f.Has("nope"))
			assert.Equal(t, "", f.Dtype("nope"))
			assert.Nil(t, f.Shape("nope"))
			_, err = f.Float32("nope")
			assert.ErrorContains(t, err, `no tensor named "nope"`)
		})
	}
}

// TestViewsShareStorage checks the file really holds the views the test relies on, so that
// TestReadsWhatTorchWrote cannot pass on a file that stored every tensor separately.
func TestViewsShareStorage(t *testing.T) {
	f, err := Open(filepath.Join("testdata", "tensors.pt"))
	require.NoError(t, err)
	defer f.Close()
	m, mt, row, col := f.tensors["matrix"], f.tensors["matrix_t"], f.tensors["row1"], f.tensors["col2"]
	assert.Same(t, m.st, mt.st)
	assert.Same(t, m.st, row.st)
	assert.Same(t, m.st, f.tensors["tied"].st)
	assert.Equal(t, []int64{1, 5}, mt.stride)
	assert.False(t, mt.contiguous())
	assert.Equal(t, int64(5), row.offset)
	assert.Equal(t, int64(2), col.offset)
	assert.Equal(t, int64(12), f.tensors["fused.bias"].offset)
	assert.False(t, f.tensors["cube_perm"].contiguous())
}

func TestLegacyFormatRejected(t *testing.T) {
	_, err := Open(filepath.Join("testdata", "legacy.pt"))
	assert.ErrorContains(t, err, "legacy torch.save format")
}

// rewriteZip copies the zip archive src, passing each record through edit, which returns the new
// contents and whether to keep the record; extra records are appended. Records are stored
// uncompressed unless deflate names them.
func rewriteZip(t *testing.T, src []byte, edit func(name string, b []byte) ([]byte, bool), extra map[string][]byte, deflate ...string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	write := func(name string, b []byte) {
		method := zip.Store
		if slices.Contains(deflate, name) {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(rc)
		require.NoError(t, err)
		rc.Close()
		nb, keep := b.Bytes(), true
		if edit != nil {
			nb, keep = edit(zf.Name, nb)
		}
		if keep {
			write(zf.Name, nb)
		}
	}
	for name, b := range extra {
		write(name, b)
	}
	require.NoError(t, zw.Close())
	return out.Bytes()
}

// TestBigEndian: a file that says byteorder "big" (torch >= 2.1 writes the record) is read with
// its bytes swapped.
func TestBigEndian(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "tensors.pt"))
	require.NoError(t, err)
	little, err := NewReader(bytes.NewReader(src), int64(len(src)))
	require.NoError(t, err)
	esize := map[string]int{} // record name -> element size
	for _, tr := range little.tensors {
		esize["tensors/data/"+tr.st.key] = tr.st.dt.size
	}
	swapped := rewriteZip(t, src, func(name string, b []byte) ([]byte, bool) {
		n, ok := esize[name]
		if !ok {
			return b, true
		}
		b = slices.Clone(b)
		for i := 0; i+n <= len(b); i += n {
			slices.Reverse(b[i : i+n])
		}
		return b, true
	}, map[string][]byte{"tensors/byteorder": []byte("big")})
	big, err := NewReader(bytes.NewReader(swapped), int64(len(swapped)))
	require.NoError(t, err)
	n := 0
	for _, name := range little.Names() {
		want, err := little.Float32(name)
		if err != nil {
			continue // integer dtypes
		}
		got, err := big.Float32(name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
		n++
	}
	assert.Greater(t, n, 10)

	odd := rewriteZip(t, src, nil, map[string][]byte{"tensors/byteorder": []byte("middle")})
	_, err = NewReader(bytes.NewReader(odd), int64(len(odd)))
	assert.ErrorContains(t, err, `"middle"`)
}

// TestBadArchives: broken archives are errors naming the problem, never panics.
func TestBadArchives(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "tensors.pt"))
	require.NoError(t, err)
	little, err := NewReader(bytes.NewReader(src), int64(len(src)))
	require.NoError(t, err)
	matrixRecord := "tensors/data/" + little.tensors["matrix"].st.key
	pkl := func(b []byte) func(string, []byte) ([]byte, bool) {
		return func(name string, old []byte) ([]byte, bool) {
			if name == "tensors/data.pkl" {
				return b, true
			}
			return old, true
		}
	}
	var origPkl []byte
	rewriteZip(t, src, func(name string, b []byte) ([]byte, bool) {
		if name == "tensors/data.pkl" {
			origPkl = b
		}
		return b, true
	}, nil)
	require.NotEmpty(t, origPkl)

	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "not a torch.save zip archive"},
		{"not a zip", []byte("hello, world"), "not a torch.save zip archive"},
		{"truncated zip", src[:len(src)/2], "reading the zip archive"},
		{"no data.pkl", rewriteZip(t, src, func(name string, b []byte) ([]byte, bool) { return b, name != "tensors/data.pkl" }, nil), "no <name>/data.pkl"},
		{"two data.pkl", rewriteZip(t, src, nil, map[string][]byte{"other/data.pkl": origPkl}), "both"},
		{"missing storage", rewriteZip(t, src, func(name string, b []byte) ([]byte, bool) { return b, name != matrixRecord }, nil), "missing from the archive"},
		{"short storage", rewriteZip(t, src, func(name string, b []byte) ([]byte, bool) {
			if name == matrixRecord {
				return b[:len(b)-4], true
			}
			return b, true
		}, nil), "but its record holds"},
		{"compressed storage", rewriteZip(t, src, nil, nil, matrixRecord), "compressed"},
		{"truncated pickle", rewriteZip(t, src, pkl(origPkl[:len(origPkl)/2]), nil), "truncated"},
		{"forbidden global", rewriteZip(t, src, pkl([]byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85R.")), nil), "GLOBAL os.system is not allowed"},
		{"not a dict", rewriteZip(t, src, pkl([]byte("\x80\x02]q\x00.")), nil), "want a state dict"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = NewReader(bytes.NewReader(c.file), int64(len(c.file))) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "torchpickle: "), err.Error())
		})
	}

	// A compressed data.pkl is fine (only storages must be stored as they are).
	deflated := rewriteZip(t, src, nil, nil, "tensors/data.pkl")
	f, err := NewReader(bytes.NewReader(deflated), int64(len(deflated)))
	require.NoError(t, err)
	assert.Equal(t, little.Names(), f.Names())
}
