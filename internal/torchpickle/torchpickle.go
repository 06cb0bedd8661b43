// Package torchpickle reads PyTorch state dicts saved by torch.save (torch >= 1.6, the zip
// format), such as Hugging Face's pytorch_model.bin, without Python and without running any code
// from the file.
//
// A torch.save archive is a zip holding <prefix>/data.pkl, a Python pickle of the state dict, and
// one record <prefix>/data/<key> per storage, the raw little-endian bytes of a flat array. The
// pickle describes each tensor as a view of a storage: dtype, offset, size and stride.
//
// The pickle is read by a restricted unpickler written for this format: it runs only the opcodes
// a state dict uses, resolves GLOBAL against a short allow-list (OrderedDict, torch's tensor and
// parameter rebuilders, and the storage classes of the supported dtypes), and builds tensors
// itself rather than calling anything a file names. Any other input is an error, never a panic.
// Every view is checked to lie inside its storage record, and every record inside the file,
// before anything is read, so allocations are bounded by the file's real size.
//
//	f, err := torchpickle.Open("pytorch_model.bin")
//	if err != nil { ... }
//	defer f.Close()
//	for _, name := range f.Names() {
//		vals, err := f.Float32(name) // row-major, whatever the view's strides
//		...
//	}
//
// The legacy format of torch < 1.6 (a bare pickle stream, not a zip) is recognised and rejected.
package torchpickle

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// maxPickle bounds data.pkl. A state dict's pickle takes a few hundred bytes per tensor, so even
// a model with tens of thousands of tensors needs a few MB; anything larger is not a state dict.
const maxPickle = 256 << 20

// File is a state dict read from a torch.save archive. Parsing checks every tensor against the
// archive; tensor data is read and converted only when asked for.
type File struct {
	r       io.ReaderAt
	order   binary.ByteOrder
	names   []string
	tensors map[string]*tensorRef
	data    map[string]int64 // storage key -> offset of its bytes in r
	closer  io.Closer
}

// Open opens and parses the torch.save archive at path. Tensor data is read from the file on
// demand; call Close when done.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	tf, err := NewReader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tf.closer = f
	return tf, nil
}

// zipMagic starts every zip archive's first local file header.
var zipMagic = []byte("PK\x03\x04")

// legacyMagic starts the pickle stream of torch.save's pre-1.6 format: PROTO 2, then LONG1 of the
// 10-byte magic number 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// NewReader parses the torch.save archive of the given size read through r, which must stay
// valid while the File is used.
func NewReader(r io.ReaderAt, size int64) (*File, error) {
	head := make([]byte, len(legacyMagic))
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	if !bytes.HasPrefix(head, zipMagic) {
		if bytes.HasPrefix(head, legacyMagic) {
			return nil, errors.New("torchpickle: this is the legacy torch.save format of torch < 1.6, which is not supported; " +
				"re-save it with a newer torch (torch.save(torch.load(f), f)) or convert it to safetensors")
		}
		return nil, errors.New("torchpickle: not a torch.save zip archive (no zip signature)")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("torchpickle: reading the zip archive: %w", err)
	}

	// torch names every record <prefix>/...; the prefix is the saved file's base name, so find it
	// through data.pkl rather than assuming one.
	var pklFile *zip.File
	for _, zf := range zr.File {
		dir, base, ok := strings.Cut(zf.Name, "/")
		if ok && dir != "" && base == "data.pkl" {
			if pklFile != nil {
				return nil, fmt.Errorf("torchpickle: the archive holds both %s and %s", pklFile.Name, zf.Name)
			}
			pklFile = zf
		}
	}
	if pklFile == nil {
		return nil, errors.New("torchpickle: the zip archive has no <name>/data.pkl record: not a file written by torch.save")
	}
	prefix := strings.TrimSuffix(pklFile.Name, "data.pkl")
	records := map[string]*zip.File{}
	order := binary.ByteOrder(binary.LittleEndian)
	for _, zf := range zr.File {
		if key, ok := strings.CutPrefix(zf.Name, prefix+"data/"); ok && key != "" {
			records[key] = zf
		}
		if zf.Name == prefix+"byteorder" {
			// Written by torch >= 2.1; older files are little-endian, as every machine that
			// wrote them was.
			b, err := readRecord(zf, 16)
			if err != nil {
				return nil, err
			}
			switch string(b) {
			case "little":
			case "big":
				order = binary.BigEndian
			default:
				return nil, fmt.Errorf("torchpickle: %s says %q, want little or big", zf.Name, b)
			}
		}
	}

	pkl, err := readRecord(pklFile, maxPickle)
	if err != nil {
		return nil, err
	}
	recordSize := func(key string) (int64, bool) {
		zf, ok := records[key]
		if !ok || zf.UncompressedSize64 > math.MaxInt64 {
			return 0, false
		}
		return int64(zf.UncompressedSize64), true
	}
	names, tensors, err := parseStateDict(pkl, recordSize)
	if err != nil {
		return nil, fmt.Errorf("torchpickle: %s: %w", pklFile.Name, err)
	}

	// Locate the bytes of every storage in use, so that reading a tensor is a plain ReadAt.
	f := &File{r: r, order: order, names: names, tensors: tensors, data: map[string]int64{}}
	for _, name := range names {
		st := tensors[name].st
		if _, done := f.data[st.key]; done {
			continue
		}
		off, err := storageOffset(records[st.key], size)
		if err != nil {
			return nil, fmt.Errorf("torchpickle: tensor %q: %w", name, err)
		}
		f.data[st.key] = off
	}
	return f, nil
}

// readRecord reads a small record whole, refusing one of more than limit bytes.
func readRecord(zf *zip.File, limit int64) ([]byte, error) {
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("torchpickle: %s is %d bytes, more than the %d this reader accepts", zf.Name, zf.UncompressedSize64, limit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("torchpickle: opening %s: %w", zf.Name, err)
	}
	defer rc.Close()
	// Read at most the claimed size plus one byte: the buffer grows with the data actually
	// decompressed, and archive/zip reports a record longer or shorter than its header says.
	b, err := io.ReadAll(io.LimitReader(rc, int64(zf.UncompressedSize64)+1))
	if err == nil && uint64(len(b)) != zf.UncompressedSize64 {
		err = fmt.Errorf("holds %d bytes, its header says %d", len(b), zf.UncompressedSize64)
	}
	if err != nil {
		return nil, fmt.Errorf("torchpickle: reading %s: %w", zf.Name, err)
	}
	return b, nil
}

// storageOffset returns where a storage record's bytes start in an archive of the given size.
// torch.save stores records uncompressed (and aligned), which is what lets a tensor be read in
// place; a compressed record would have to be inflated whole and is refused.
func storageOffset(zf *zip.File, size int64) (int64, error) {
	if zf.Method != zip.Store || zf.CompressedSize64 != zf.UncompressedSize64 {
		return 0, fmt.Errorf("storage record %s is compressed (method %d); torch.save stores storages uncompressed", zf.Name, zf.Method)
	}
	off, err := zf.DataOffset()
	if err != nil {
		return 0, fmt.Errorf("storage record %s: %w", zf.Name, err)
	}
	if off < 0 || zf.UncompressedSize64 > uint64(size) || off > size-int64(zf.UncompressedSize64) {
		return 0, fmt.Errorf("storage record %s (%d bytes at %d) runs past the end of the %d-byte archive", zf.Name, zf.UncompressedSize64, off, size)
	}
	return off, nil
}

// Close releases the file opened by Open; for other sources it does nothing.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string { return slices.Clone(f.names) }

// Has reports whether the state dict holds a tensor called name.
func (f *File) Has(name string) bool { _, ok := f.tensors[name]; return ok }

// Dtype returns the dtype of name in safetensors' spelling ("F32", "F16", "BF16", "F64", "I64",
// "I32", "I16", "I8", "U8", "BOOL"), or "" if there is no such tensor.
func (f *File) Dtype(name string) string {
	t, ok := f.tensors[name]
	if !ok {
		return ""
	}
	return t.st.dt.name
}

// Shape returns the shape of name (empty, not nil, for a scalar), or nil if there is no such
// tensor.
func (f *File) Shape(name string) []int {
	t, ok := f.tensors[name]
	if !ok {
		return nil
	}
	shape := make([]int, len(t.shape))
	for i, d := range t.shape {
		shape[i] = int(d) // fits: the tensor has no more elements than a storage in the file
	}
	return shape
}
