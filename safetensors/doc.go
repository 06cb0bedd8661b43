// Package safetensors reads and writes the safetensors file format
// (https://github.com/huggingface/safetensors), the format Hugging Face uses for model weights
// and goformer uses for checkpoints.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (plus an optional "__metadata__" object of
// string to string), then the raw little-endian tensor bytes; offsets are relative to the end of
// the header.
//
// # Reading
//
// Open (a path) and Read (an io.ReaderAt of known size) parse and check the whole header before
// trusting any of it: every dtype is known, every shape matches its byte range, every range lies
// inside the real data section and no two overlap. Nothing is allocated from a size a header
// merely claims, so a corrupt or hostile file returns an error, never a panic or a huge
// allocation. Tensor data is read only when asked for: Float32 returns a fresh *tensor.Tensor
// (F32 exactly; F16, BF16 and small integers converted exactly; F64 rounded), Int64 returns the
// values of an integer or BOOL tensor. Names, Has, Dtype, Shape and Metadata describe the file
// without reading its data.
//
// # Writing
//
// Write encodes float32 tensors (as F32, in name order, header padded to 8 bytes as the reference
// writer does) to an io.Writer; Save writes a file atomically (temporary file in the same
// directory, fsync, rename), so a failed save never leaves a partial file in place of a good one.
//
// # Half precision
//
// Float16ToFloat32 and BFloat16ToFloat32 widen IEEE binary16 and bfloat16 bit patterns to
// float32 exactly; the reader uses them, and so does the PyTorch state-dict reader.
//
// # Main calls
//
//	f, err := safetensors.Open("model.safetensors")
//	defer f.Close()
//	for _, name := range f.Names() {
//		fmt.Println(name, f.Dtype(name), f.Shape(name))
//	}
//	w, err := f.Float32("transformer.wte.weight") // *tensor.Tensor
//
//	err = safetensors.Save("out.safetensors", map[string]*tensor.Tensor{"w": w}, map[string]string{"format": "pt"})
package safetensors
