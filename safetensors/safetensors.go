package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/goformer/goformer/tensor"
)

// maxHeader bounds the JSON header, as the reference implementation does (100 MB):
// a real header lists names and shapes, so anything larger is a corrupt or hostile file.
const maxHeader = 100_000_000

// metadataKey is the reserved header entry holding free-form string metadata.
const metadataKey = "__metadata__"

// dtypeSizes lists the dtypes this package understands and their element sizes in bytes.
var dtypeSizes = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U64": 8, "U32": 4, "U16": 2, "U8": 1,
	"BOOL": 1,
}

type stEntry struct {
	dtype      string
	shape      []int
	begin, end int64 // byte offsets into the data section
}

// File is a parsed safetensors file, from Open or Read. Parsing validates the whole header
// against the real size of the input; tensor data is read and converted only when asked for (by
// Float32 or Int64), so a caller can pick a few tensors out of a large file without holding all
// of it in memory twice. Names, Has, Dtype, Shape and Metadata answer from the header alone.
type File struct {
	r        io.ReaderAt
	dataBase int64 // absolute position of the data section in r
	entries  map[string]stEntry
	names    []string
	meta     map[string]string
	closer   io.Closer
}

// Read parses the header of a safetensors file of the given total size read through r; for a
// file in memory, pass bytes.NewReader(b) and len(b).
// It checks every entry (known dtype, non-negative shape, offsets inside the data section, no two
// tensors overlapping, byte length equal to shape × element size) and returns an error describing
// the first problem. Tensor data is read later, from r, by Float32 and Int64; r must stay valid
// until then.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	// Compare in uint64 before converting so that a huge claimed length cannot wrap negative.
	if n > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header claims %d bytes but only %d follow the length", n, size-8)
	}
	if n > maxHeader {
		return nil, fmt.Errorf("safetensors: header of %d bytes exceeds the %d-byte limit", n, maxHeader)
	}
	header := make([]byte, n)
	if err := readFull(r, header, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading %d-byte header: %w", n, err)
	}
	st := &File{r: r, dataBase: 8 + int64(n), entries: map[string]stEntry{}}
	if err := st.parseHeader(header, size-st.dataBase); err != nil {
		return nil, err
	}
	return st, nil
}

// Open opens and parses the safetensors file at path, checking the header against the file's
// real size as Read does. Tensor data is read from the file on demand; call Close when done.
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
	st, err := Read(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st.closer = f
	return st, nil
}

// Close releases the file opened by Open; for a File from Read it does nothing.
func (st *File) Close() error {
	if st.closer == nil {
		return nil
	}
	c := st.closer
	st.closer = nil
	return c.Close()
}

// Names returns the tensor names in sorted order.
func (st *File) Names() []string { return slices.Clone(st.names) }

// Has reports whether the file holds a tensor called name.
func (st *File) Has(name string) bool { _, ok := st.entries[name]; return ok }

// Metadata returns a copy of the "__metadata__" map, or nil if the file has none.
func (st *File) Metadata() map[string]string {
	if st.meta == nil {
		return nil
	}
	m := make(map[string]string, len(st.meta))
	for k, v := range st.meta {
		m[k] = v
	}
	return m
}

// Dtype returns the stored dtype of name ("F32", "BF16", "I64", ...), or "" if there is no such tensor.
func (st *File) Dtype(name string) string { return st.entries[name].dtype }

// Shape returns the shape of name, or nil if there is no such tensor.
func (st *File) Shape(name string) []int {
	e, ok := st.entries[name]
	if !ok {
		return nil
	}
	return slices.Clone(e.shape)
}

func (st *File) entry(name string) (stEntry, error) {
	e, ok := st.entries[name]
	if !ok {
		return e, fmt.Errorf("safetensors: no tensor named %q", name)
	}
	return e, nil
}

// Float32 reads tensor name as a fresh contiguous float32 tensor. F32 is copied exactly; F16,
// BF16 and F64 convert to the nearest float32 (F16 and BF16 exactly). Integer and BOOL tensors
// convert only if every value is exactly representable in float32 (|x| ≤ 2^24); otherwise use Int64.
func (st *File) Float32(name string) (*tensor.Tensor, error) {
	e, err := st.entry(name)
	if err != nil {
		return nil, err
	}
	t := tensor.Zeros(e.shape...) // the size was checked against the file when the header was parsed
	dst := t.Data()
	esize := dtypeSizes[e.dtype]
	var convErr error
	err = st.readChunks(e, func(b []byte, at int) {
		if convErr != nil {
			return
		}
		out := dst[at : at+len(b)/esize]
		switch e.dtype {
		case "F32":
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case "F16":
			for i := range out {
				out[i] = Float16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		case "BF16":
			for i := range out {
				out[i] = BFloat16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		case "F64":
			for i := range out {
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		default:
			for i := range out {
				v, ok := decodeInt(e.dtype, b[esize*i:])
				if !ok || v > 1<<24 || v < -(1<<24) {
					convErr = fmt.Errorf("safetensors: %s tensor %q element %d is not exactly representable as float32; use Int64", e.dtype, name, at+i)
					return
				}
				out[i] = float32(v)
			}
		}
	})
	if err == nil {
		err = convErr
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Int64 reads an integer or BOOL tensor (I8 ... I64, U8 ... U64, BOOL) as int64 values in
// row-major order, with its shape. Token ids, as Hugging Face stores them, are I64. A U64 value
// above math.MaxInt64, or a floating-point tensor, is an error.
func (st *File) Int64(name string) ([]int64, []int, error) {
	e, err := st.entry(name)
	if err != nil {
		return nil, nil, err
	}
	switch e.dtype {
	case "F64", "F32", "F16", "BF16":
		return nil, nil, fmt.Errorf("safetensors: tensor %q is %s, not an integer dtype; use Float32", name, e.dtype)
	}
	esize := dtypeSizes[e.dtype]
	out := make([]int64, (e.end-e.begin)/int64(esize))
	var convErr error
	err = st.readChunks(e, func(b []byte, at int) {
		for i := 0; i < len(b)/esize && convErr == nil; i++ {
			v, ok := decodeInt(e.dtype, b[esize*i:])
			if !ok {
				convErr = fmt.Errorf("safetensors: %s tensor %q element %d overflows int64", e.dtype, name, at+i)
			}
			out[at+i] = v
		}
	})
	if err == nil {
		err = convErr
	}
	if err != nil {
		return nil, nil, err
	}
	return out, slices.Clone(e.shape), nil
}

// decodeInt decodes one little-endian integer of the given dtype; ok is false for a U64 value
// that does not fit in int64.
func decodeInt(dtype string, b []byte) (v int64, ok bool) {
	switch dtype {
	case "I64":
		return int64(binary.LittleEndian.Uint64(b)), true
	case "I32":
		return int64(int32(binary.LittleEndian.Uint32(b))), true
	case "I16":
		return int64(int16(binary.LittleEndian.Uint16(b))), true
	case "I8":
		return int64(int8(b[0])), true
	case "U64":
		u := binary.LittleEndian.Uint64(b)
		return int64(u), u <= math.MaxInt64
	case "U32":
		return int64(binary.LittleEndian.Uint32(b)), true
	case "U16":
		return int64(binary.LittleEndian.Uint16(b)), true
	case "U8", "BOOL":
		return int64(b[0]), true
	}
	return 0, false
}

// readChunks reads e's bytes in pieces of whole elements and passes each with the index of its
// first element. Reading in pieces keeps the peak memory of a large conversion near the size of
// its result rather than twice that.
func (st *File) readChunks(e stEntry, f func(b []byte, at int)) error {
	const chunk = 1 << 16
	esize := int64(dtypeSizes[e.dtype])
	total := e.end - e.begin
	buf := make([]byte, min(total, chunk*esize))
	for off := int64(0); off < total; off += int64(len(buf)) {
		b := buf[:min(int64(len(buf)), total-off)]
		if err := readFull(st.r, b, st.dataBase+e.begin+off); err != nil {
			return fmt.Errorf("safetensors: reading tensor data: %w", err)
		}
		f(b, int(off/esize))
	}
	return nil
}

// readFull fills b from r at off. io.ReaderAt may report io.EOF along with a full read that ends
// at the end of the input; only a short read is an error.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// parseHeader decodes and validates the JSON header against a data section of dataLen bytes.
func (st *File) parseHeader(header []byte, dataLen int64) error {
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("safetensors: header is not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("safetensors: header is not a JSON object")
	}
	// Walk the top-level object by hand rather than unmarshalling into a map, so that a
	// duplicated name is reported instead of silently keeping the last one.
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("safetensors: bad header JSON: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("safetensors: bad header JSON: object key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("safetensors: bad header JSON at %q: %w", name, err)
		}
		if name == metadataKey {
			if st.meta != nil {
				return errors.New("safetensors: duplicate __metadata__ in header")
			}
			st.meta = map[string]string{}
			if err := json.Unmarshal(raw, &st.meta); err != nil {
				return fmt.Errorf("safetensors: __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		if _, dup := st.entries[name]; dup {
			return fmt.Errorf("safetensors: tensor %q appears twice in the header", name)
		}
		e, err := parseEntry(name, raw, dataLen)
		if err != nil {
			return err
		}
		st.entries[name] = e
		st.names = append(st.names, name)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("safetensors: bad header JSON: %w", err)
	}
	// Anything after the object other than the spaces writers pad with is corruption.
	if rest := bytes.TrimRight(header[dec.InputOffset():], " \t\r\n\x00"); len(rest) > 0 {
		return errors.New("safetensors: trailing bytes after the header's JSON object")
	}
	slices.Sort(st.names)
	return st.checkOverlap()
}

// parseEntry decodes one tensor's header entry and checks it against the data section's length.
func parseEntry(name string, raw json.RawMessage, dataLen int64) (stEntry, error) {
	var j struct {
		Dtype       string        `json:"dtype"`
		Shape       []json.Number `json:"shape"`
		DataOffsets []json.Number `json:"data_offsets"`
	}
	bad := func(format string, args ...any) (stEntry, error) {
		return stEntry{}, fmt.Errorf("safetensors: tensor %q: "+format, append([]any{name}, args...)...)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return bad("bad entry: %v", err)
	}
	esize, ok := dtypeSizes[j.Dtype]
	if !ok {
		return bad("unsupported dtype %q", j.Dtype)
	}
	if j.Shape == nil {
		return bad("missing shape")
	}
	if len(j.DataOffsets) != 2 {
		return bad("data_offsets must be [begin, end], got %d numbers", len(j.DataOffsets))
	}
	var off [2]int64
	for i, n := range j.DataOffsets {
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v < 0 {
			return bad("data_offsets %v are not non-negative integers", j.DataOffsets)
		}
		off[i] = v
	}
	if off[0] > off[1] || off[1] > dataLen {
		return bad("data_offsets [%d, %d] lie outside the %d-byte data section", off[0], off[1], dataLen)
	}
	nbytes := off[1] - off[0]
	// Multiply the dims with an overflow guard: the element count may never exceed what the
	// (already bounded) byte range can hold, so a claimed shape like [1e12, 1e12] fails here
	// instead of reaching an allocation.
	maxElems := nbytes / int64(esize)
	shape := make([]int, len(j.Shape))
	elems := int64(1)
	for i, n := range j.Shape {
		d, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || d < 0 || int64(int(d)) != d {
			return bad("shape %v has a dimension that is not a non-negative integer", j.Shape)
		}
		shape[i] = int(d)
		if elems != 0 && d != 0 && elems > math.MaxInt64/d {
			return bad("shape %v is too large", j.Shape)
		}
		elems *= d
	}
	// Once every dim is known an empty tensor may follow large ones, so the bound is checked last.
	if elems > maxElems || elems*int64(esize) != nbytes {
		return bad("shape %v of %s needs %s bytes but data_offsets give %d", shape, j.Dtype, byteCount(elems, esize), nbytes)
	}
	return stEntry{dtype: j.Dtype, shape: shape, begin: off[0], end: off[1]}, nil
}

// byteCount formats elems·esize without overflowing.
func byteCount(elems int64, esize int) string {
	if elems > math.MaxInt64/int64(esize) {
		return "more than 2^63"
	}
	return strconv.FormatInt(elems*int64(esize), 10)
}

// checkOverlap rejects files in which two non-empty tensors share bytes: a writer never produces
// them, and a reader that trusted them could alias one tensor's data as another's.
func (st *File) checkOverlap() error {
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	for name, e := range st.entries {
		if e.end > e.begin {
			spans = append(spans, span{name, e.begin, e.end})
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			return cmp.Compare(a.begin, b.begin)
		}
		return strings.Compare(a.name, b.name)
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return fmt.Errorf("safetensors: tensors %q [%d, %d) and %q [%d, %d) overlap",
				spans[i-1].name, spans[i-1].begin, spans[i-1].end, spans[i].name, spans[i].begin, spans[i].end)
		}
	}
	return nil
}
