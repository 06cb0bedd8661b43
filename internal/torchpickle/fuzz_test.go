package torchpickle

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// fuzzRecord is the size every storage record has in FuzzParseStateDict.
const fuzzRecord = 1 << 12

// FuzzParseStateDict runs the unpickler on arbitrary bytes with every short storage key present,
// then reads every tensor it accepted from a zero-filled archive: no input may panic, and any view
// the parser accepts must be readable within its storage.
func FuzzParseStateDict(f *testing.F) {
	for _, stem := range []string{"tensors", "proto4"} {
		if pkl, err := pickleOf(filepath.Join("testdata", stem+".pt")); err == nil {
			f.Add(pkl)
		}
	}
	f.Add(stateDict(view{name: "w", storageType: "FloatStorage", key: "0", numel: 12, offset: 2, size: []int64{2, 5}, stride: []int64{5, 1}},
		view{name: "t", storageType: "BFloat16Storage", key: "1", numel: 6, size: []int64{3, 2}, stride: []int64{1, 3}}))
	f.Add([]byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85R."))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		recordSize := func(key string) (int64, bool) { return fuzzRecord, len(key) < 3 }
		names, tensors, err := parseStateDict(pkl, recordSize)
		if err != nil {
			return
		}
		// Lay the records out one after another in a zero-filled archive and read everything.
		file := &File{r: bytes.NewReader(make([]byte, fuzzRecord*(len(tensors)+1))), order: binary.LittleEndian,
			names: names, tensors: tensors, data: map[string]int64{}}
		for _, tr := range tensors {
			if _, ok := file.data[tr.st.key]; !ok {
				file.data[tr.st.key] = int64(len(file.data)) * fuzzRecord
			}
		}
		for _, name := range names {
			vals, err := file.Float32(name)
			if err != nil {
				continue // integer dtypes
			}
			want := 1
			for _, d := range file.Shape(name) {
				want *= d
			}
			if len(vals) != want {
				t.Fatalf("%s: %d values for shape %v", name, len(vals), file.Shape(name))
			}
		}
	})
}

// FuzzNewReader feeds arbitrary archives to the whole reader.
func FuzzNewReader(f *testing.F) {
	for _, name := range []string{"tensors.pt", "proto4.pt", "legacy.pt"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, name := range file.Names() {
			file.Float32(name)
		}
	})
}

// pickleOf returns the data.pkl of a torch.save archive.
func pickleOf(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	for _, zf := range zr.File {
		if filepath.Base(zf.Name) == "data.pkl" {
			return readRecord(zf, maxPickle)
		}
	}
	return nil, os.ErrNotExist
}
