package torchpickle

import (
	"fmt"
	"io"
	"math"

	"github.com/goformer/goformer/safetensors"
)

// readChunk is how many elements a contiguous tensor is read at a time: large enough to keep
// ReadAt calls few, small enough that the byte buffer stays a fraction of the result.
const readChunk = 1 << 16

// Float32 reads tensor name as float32 values in row-major order of its shape, following the
// view's offset and strides into its storage. F32 is copied exactly, F16 and BF16 convert exactly,
// F64 rounds to the nearest float32; integer and BOOL tensors are an error.
func (f *File) Float32(name string) ([]float32, error) {
	t, ok := f.tensors[name]
	if !ok {
		return nil, fmt.Errorf("torchpickle: no tensor named %q", name)
	}
	decode, err := f.decoder(t.st.dt)
	if err != nil {
		return nil, fmt.Errorf("torchpickle: tensor %q: %w", name, err)
	}
	n, _ := numel(t.shape) // checked when parsing: at most the storage's size
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	esize := int64(t.st.dt.size)
	base := f.data[t.st.key]

	if t.contiguous() {
		buf := make([]byte, min(n, readChunk)*esize)
		for at := int64(0); at < n; at += readChunk {
			k := min(n-at, readChunk)
			b := buf[:k*esize]
			if err := readFull(f.r, b, base+(t.offset+at)*esize); err != nil {
				return nil, fmt.Errorf("torchpickle: reading tensor %q: %w", name, err)
			}
			for i := range k {
				out[at+i] = decode(b[int64(i)*esize:])
			}
		}
		return out, nil
	}

	// A strided view: read the span of storage it touches (checked to lie inside the storage),
	// then gather. Views in state dicts are transposes or slices of parameters, so the span is
	// close to the tensor's own size.
	span := int64(1)
	for i, d := range t.shape {
		span += (d - 1) * t.stride[i]
	}
	b := make([]byte, span*esize)
	if err := readFull(f.r, b, base+t.offset*esize); err != nil {
		return nil, fmt.Errorf("torchpickle: reading tensor %q: %w", name, err)
	}
	idx := make([]int64, len(t.shape)) // odometer over the shape, last axis fastest
	pos := int64(0)                    // storage index of idx, relative to the offset
	for i := range out {
		out[i] = decode(b[pos*esize:])
		for ax := len(idx) - 1; ax >= 0; ax-- {
			idx[ax]++
			pos += t.stride[ax]
			if idx[ax] < t.shape[ax] {
				break
			}
			pos -= idx[ax] * t.stride[ax]
			idx[ax] = 0
		}
	}
	return out, nil
}

// decoder returns the function that decodes one element of dt in the archive's byte order.
func (f *File) decoder(dt dtype) (func(b []byte) float32, error) {
	o := f.order
	switch dt.name {
	case "F32":
		return func(b []byte) float32 { return math.Float32frombits(o.Uint32(b)) }, nil
	case "F16":
		return func(b []byte) float32 { return safetensors.Float16ToFloat32(o.Uint16(b)) }, nil
	case "BF16":
		return func(b []byte) float32 { return safetensors.BFloat16ToFloat32(o.Uint16(b)) }, nil
	case "F64":
		return func(b []byte) float32 { return float32(math.Float64frombits(o.Uint64(b))) }, nil
	}
	return nil, fmt.Errorf("dtype %s is not floating-point and cannot be read as float32", dt.name)
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
