package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/goformer/goformer/internal/atomicfile"
	"github.com/goformer/goformer/tensor"
)

// Write writes tensors as F32 in the safetensors format, with optional string
// metadata. Tensors are laid out in name order; the header is padded with spaces to a multiple of
// 8 bytes, as the reference implementation does, so that the data starts aligned.
// Names must be non-empty and must not be "__metadata__".
func Write(w io.Writer, tensors map[string]*tensor.Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		if name == "" || name == metadataKey {
			return fmt.Errorf("safetensors: invalid tensor name %q", name)
		}
		if t == nil {
			return fmt.Errorf("safetensors: tensor %q is nil", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)

	var hdr bytes.Buffer
	hdr.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			hdr.WriteByte(',')
		}
		first = false
	}
	if len(metadata) > 0 {
		sep()
		writeJSONString(&hdr, metadataKey)
		hdr.WriteString(":{")
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				hdr.WriteByte(',')
			}
			writeJSONString(&hdr, k)
			hdr.WriteByte(':')
			writeJSONString(&hdr, metadata[k])
		}
		hdr.WriteByte('}')
	}
	var off int64
	for _, name := range names {
		t := tensors[name]
		n := int64(t.Size()) * 4
		sep()
		writeJSONString(&hdr, name)
		hdr.WriteString(`:{"dtype":"F32","shape":[`)
		for i, d := range t.Shape() {
			if i > 0 {
				hdr.WriteByte(',')
			}
			hdr.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&hdr, `],"data_offsets":[%d,%d]}`, off, off+n)
		off += n
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	bw.Write(lenBuf[:])
	bw.Write(hdr.Bytes())
	// Encode through a fixed buffer: a per-element Write would dominate the time of a large save.
	buf := make([]byte, 0, 1<<16)
	for _, name := range names {
		data := tensors[name].Contiguous().Data()
		for len(data) > 0 {
			k := min(len(data), cap(buf)/4)
			buf = buf[:4*k]
			for i, v := range data[:k] {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
			if _, err := bw.Write(buf); err != nil {
				return fmt.Errorf("safetensors: writing: %w", err)
			}
			data = data[k:]
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: writing: %w", err)
	}
	return nil
}

// writeJSONString writes s as a JSON string without Go's HTML escaping of <, > and &, which is
// valid JSON but would make our headers differ needlessly from other writers'.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)               // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}

// Save writes tensors and metadata to path as Write does, atomically: the
// file is written under a temporary name in the same directory, synced to disk and renamed over
// path, so a crash or error part-way leaves any previous file at path intact.
func Save(path string, tensors map[string]*tensor.Tensor, metadata map[string]string) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error { return Write(w, tensors, metadata) })
}
