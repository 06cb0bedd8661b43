package gemm

import (
	"fmt"
	"math"
	"sync"

	"github.com/goformer/goformer/internal/parallel"
)

// Compact weight matrices, for inference. Decoding one token reads every weight matrix once and
// does two flops per weight, so its speed is the rate at which weights stream from memory:
// holding them in 16 bits (bfloat16) or 8 (int8 with a float32 scale per row) halves or
// quarters the bytes. Activations stay float32; the weights are widened to float32 in registers,
// so the arithmetic is float32 FMAs, as in Sgemm.
//
// A Compact matrix W is n×k in PyTorch's Linear layout (n outputs, k inputs, row-major), and
// MulCompactT computes C = A·Wᵀ. Up to compactThinMaxM rows of A (a decode step, a batch of
// sequences generating together) each block of weight rows is read once and serves every row of
// A, four at a time, as the float32 thin products do; each output is a dot product in a fixed
// lane order (see compact_generic.go), then the tail of k in order, then the row's scale, so it
// depends neither on m nor on the worker count. Past that bound (a prefill, a loss over a batch)
// the arithmetic dominates: blocks of weight rows are widened into a float32 scratch and handed
// to Sgemm.

// Format is how a Compact matrix holds its values.
type Format uint8

const (
	// BF16 is bfloat16: a float32's sign, exponent and top 7 mantissa bits, rounded to nearest
	// even. The relative error is at most 2⁻⁸ over float32's normal range.
	BF16 Format = iota + 1
	// Int8 is symmetric per-row quantisation: row j holds round(w/s_j) in [-127, 127] with
	// s_j = max|w_j| / 127, so the error is at most s_j/2.
	Int8
)

func (f Format) String() string {
	switch f {
	case BF16:
		return "bf16"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Compact is an n×k weight matrix held as bfloat16 or int8. It is immutable once made, so any
// number of goroutines may multiply by it at once.
type Compact struct {
	format Format
	n, k   int
	half   []uint16  // BF16: n·k values, row-major
	q      []int8    // Int8: n·k values, row-major
	scale  []float32 // Int8: one per row
	sum    []int32   // Int8: Σ q over each row, for the unsigned-activation VNNI products
}

// NewBF16 returns w (n×k, row-major, len(w) = n·k) rounded to bfloat16. NaNs stay NaN;
// infinities and values that round past bfloat16's largest finite value become infinite.
func NewBF16(w []float32, n, k int) *Compact {
	checkCompactShape("NewBF16", w, n, k)
	c := &Compact{format: BF16, n: n, k: k, half: make([]uint16, n*k)}
	parallel.For(n, Workers(), func(lo, hi int) {
		for i, v := range w[lo*k : hi*k] {
			c.half[lo*k+i] = toBF16(v)
		}
	})
	return c
}

// NewInt8 returns w (n×k, row-major, len(w) = n·k) quantised to int8 with one scale per row. A
// row of zeros gets scale 0. Int8 cannot hold NaN or an infinity: a non-finite value is an error.
func NewInt8(w []float32, n, k int) (*Compact, error) {
	checkCompactShape("NewInt8", w, n, k)
	c := &Compact{format: Int8, n: n, k: k, q: make([]int8, n*k), scale: make([]float32, n), sum: make([]int32, n)}
	bad := make([]bool, n)
	parallel.For(n, Workers(), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			bad[j] = !c.quantiseRow(j, w[j*k:(j+1)*k])
		}
	})
	for j, b := range bad {
		if !b {
			continue
		}
		for q, v := range w[j*k : (j+1)*k] {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("gemm: int8 quantisation: value (%d, %d) is %v", j, q, v)
			}
		}
	}
	return c, nil
}

// quantiseRow sets row j's scale and values from row; false if row holds a non-finite value.
func (c *Compact) quantiseRow(j int, row []float32) bool {
	var top float32
	for _, v := range row {
		top = max(top, v, -v) // a NaN makes top NaN
	}
	if top != top || top > math.MaxFloat32 {
		return false
	}
	if top == 0 {
		return true
	}
	s := float32(float64(top) / 127)
	if s == 0 { // the row's largest value is a subnormal below 127 × the smallest one
		s = math.SmallestNonzeroFloat32
	}
	c.scale[j] = s
	qr := c.q[j*c.k : (j+1)*c.k]
	for q, v := range row {
		// |v| ≤ top and s ≈ top/127 (to float32's precision), so the quotient is within ±127.5
		// and the clamp only guards the rounding of s.
		r := math.Round(float64(v) / float64(s))
		qr[q] = int8(max(-127, min(127, r)))
		c.sum[j] += int32(qr[q])
	}
	return true
}

func checkCompactShape(op string, w []float32, n, k int) {
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm.%s: negative dimension %d×%d", op, n, k))
	}
	if len(w) != n*k {
		panic(fmt.Sprintf("gemm.%s: %d values for a %d×%d matrix", op, len(w), n, k))
	}
}

// toBF16 rounds f to the nearest bfloat16, ties to even; a NaN stays a (quiet) NaN.
func toBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // set the quiet bit: truncating could leave an infinity
	}
	// Adding 0x7fff rounds the dropped half up when it exceeds one half; the kept part's last
	// bit breaks the tie. An overflow of the mantissa carries into the exponent, as it should.
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// fromBF16 widens a bfloat16 to float32 (exactly).
func fromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Format returns how w holds its values.
func (w *Compact) Format() Format { return w.format }

// Dims returns w's shape: n rows (outputs), k columns (inputs).
func (w *Compact) Dims() (n, k int) { return w.n, w.k }

// Bytes returns the memory w's values and scales take: what a product streams.
func (w *Compact) Bytes() int {
	return 2*len(w.half) + len(w.q) + 4*len(w.scale) + 4*len(w.sum)
}

// Scale returns row j's scale (Int8), or 1 (BF16).
func (w *Compact) Scale(j int) float32 {
	if w.format == Int8 {
		return w.scale[j]
	}
	return 1
}

// At returns element (j, q) as float32: the bfloat16 widened, or the int8 times its row's scale.
func (w *Compact) At(j, q int) float32 {
	if j < 0 || j >= w.n || q < 0 || q >= w.k {
		panic(fmt.Sprintf("gemm.Compact.At: (%d, %d) outside %d×%d", j, q, w.n, w.k))
	}
	if w.format == BF16 {
		return fromBF16(w.half[j*w.k+q])
	}
	return float32(w.q[j*w.k+q]) * w.scale[j]
}

// Rows writes rows ids of w, widened to float32, to dst (len(ids)·k values, row-major). An id
// outside [0, n) panics.
func (w *Compact) Rows(ids []int, dst []float32) {
	if len(dst) != len(ids)*w.k {
		panic(fmt.Sprintf("gemm.Compact.Rows: %d values for %d rows of %d", len(dst), len(ids), w.k))
	}
	for r, j := range ids {
		if j < 0 || j >= w.n {
			panic(fmt.Sprintf("gemm.Compact.Rows: row %d outside [0, %d)", j, w.n))
		}
		w.widen(j, dst[r*w.k:(r+1)*w.k])
	}
}

// widen writes row j to dst (k values).
func (w *Compact) widen(j int, dst []float32) {
	k := w.k
	if w.format == BF16 {
		for q, h := range w.half[j*k : (j+1)*k] {
			dst[q] = fromBF16(h)
		}
		return
	}
	s := w.scale[j]
	for q, v := range w.q[j*k : (j+1)*k] {
		dst[q] = float32(v) * s
	}
}

// compactThinMaxM is the most rows of A that MulCompactT serves from each block of weight rows
// read once; above, it widens the weights and calls Sgemm. The same bound as the float32 thin
// products (thinMaxMT), for the same reason, and so that a batch of up to 32 sequences gets, row
// for row, the bits a single sequence gets.
const compactThinMaxM = 32

// compactBlockRows is how many weight rows the blocked path widens at a time: a float32 scratch
// of at most compactBlockRows·k values (3 MiB at k = 3072).
const compactBlockRows = 256

// MulCompactT sets C (m×n, leading dimension ldc) to A (m×k, leading dimension lda) times wᵀ,
// for w n×k. C must not overlap A. Results do not depend on the worker count.
func MulCompactT(m int, a []float32, lda int, w *Compact, c []float32, ldc int) {
	if m < 0 {
		panic(fmt.Sprintf("gemm.MulCompactT: negative row count %d", m))
	}
	n, k := w.n, w.k
	checkMatrix("A", a, m, k, lda)
	checkMatrix("C", c, m, n, ldc)
	switch {
	case m == 0 || n == 0:
		return
	case k == 0:
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
	case m <= compactThinMaxM && w.format == Int8 && k <= int8MaxK && int8Activations() && compactInt8Thin(m, a, lda, w, c, ldc, Workers()):
	case m <= compactThinMaxM && w.format == BF16 && bf16Activations():
		compactBF16Thin(m, a, lda, w, c, ldc, Workers())
	case m <= compactThinMaxM:
		compactThin(m, a, lda, w, c, ldc, Workers())
	default:
		compactBlocked(m, a, lda, w, c, ldc, Workers())
	}
}

// compactThin runs a product of up to compactThinMaxM rows of A on up to workers goroutines,
// split over output columns (weight rows).
func compactThin(m int, a []float32, lda int, w *Compact, c []float32, ldc, workers int) {
	body := func(lo, hi int) { compactColumns(m, a, lda, w, c, ldc, lo, hi) }
	if !splitThin(workers, 2*float64(m)*float64(w.n)*float64(w.k), float64(w.Bytes())) {
		body(0, w.n)
		return
	}
	thinFor(w.n, workers, float64(w.Bytes()), body)
}

// compactColumns computes columns [lo, hi) of C: thinDotBlock weight rows at a time, read from
// memory once for the four-row groups of A and then from cache for the others.
func compactColumns(m int, a []float32, lda int, w *Compact, c []float32, ldc, lo, hi int) {
	k := w.k
	kv := k - k%compactStep() // the part the vector kernels take
	for j0 := lo; j0 < hi; j0 += thinDotBlock {
		nb := min(thinDotBlock, hi-j0)
		if kv > 0 {
			i := 0
			for ; i+4 <= m; i += 4 {
				w.dots(4, kv, a[i*lda:], lda, j0, nb, c[i*ldc+j0:], ldc)
			}
			for ; i < m; i++ {
				w.dots(1, kv, a[i*lda:], lda, j0, nb, c[i*ldc+j0:], ldc)
			}
		}
		if kv == k && w.format == BF16 {
			continue
		}
		// the tail of k in order, then the row's scale
		for i := range m {
			ai := a[i*lda : i*lda+k]
			ci := c[i*ldc+j0 : i*ldc+j0+nb]
			for jj := range ci {
				j := j0 + jj
				var s float32
				if kv > 0 {
					s = ci[jj]
				}
				if w.format == BF16 {
					for q, h := range w.half[j*k+kv : (j+1)*k] {
						s += ai[kv+q] * fromBF16(h)
					}
				} else {
					for q, v := range w.q[j*k+kv : (j+1)*k] {
						s += ai[kv+q] * float32(v)
					}
					s *= w.scale[j]
				}
				ci[jj] = s
			}
		}
	}
}

// dots sets c[r*ldc+jj] to the vector part (kv elements, a multiple of compactStep) of row r of
// A (at a[r*lda:]) times weight row j0+jj, unscaled, for r < rows (1 or 4) and jj < nb.
func (w *Compact) dots(rows, kv int, a []float32, lda, j0, nb int, c []float32, ldc int) {
	k := w.k
	_ = a[(rows-1)*lda+kv-1]
	_ = c[(rows-1)*ldc+nb-1]
	if w.format == BF16 {
		ws := w.half[j0*k : (j0+nb-1)*k+kv]
		dotsBF16(rows, kv, a, lda, ws, k, nb, c, ldc)
		return
	}
	ws := w.q[j0*k : (j0+nb-1)*k+kv]
	dotsInt8(rows, kv, a, lda, ws, k, nb, c, ldc)
}

// scratchPool holds the blocked path's float32 copies of weight blocks.
var scratchPool = sync.Pool{New: func() any { return new([]float32) }}

// compactBlocked widens compactBlockRows weight rows at a time and multiplies by them with
// Sgemm (which divides each product among the workers).
func compactBlocked(m int, a []float32, lda int, w *Compact, c []float32, ldc, workers int) {
	n, k := w.n, w.k
	rows := min(n, compactBlockRows)
	sp := scratchPool.Get().(*[]float32)
	defer scratchPool.Put(sp)
	if len(*sp) < rows*k {
		*sp = make([]float32, rows*k)
	}
	scratch := *sp
	for j0 := 0; j0 < n; j0 += rows {
		nb := min(rows, n-j0)
		parallel.For(nb, workers, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				w.widen(j0+j, scratch[j*k:(j+1)*k])
			}
		})
		Sgemm(false, true, m, nb, k, a, lda, scratch, k, c[j0:], ldc, false)
	}
}

// StackRows returns one matrix holding the rows of ws in order, all of one format and width, as
// their own conversions would hold them: the products of projections that read one input (a
// layer's queries, keys and values; SwiGLU's gate and up) then stream one matrix in one pass
// instead of several, which a decoding step at one row of activations does at a higher rate
// (on a 2-vCPU Zen 5, a SmolLM2-135M-shaped token's int8 products ran 18–22% faster).
func StackRows(ws ...*Compact) *Compact {
	if len(ws) == 0 {
		panic("gemm.StackRows: no matrices")
	}
	s := &Compact{format: ws[0].format, k: ws[0].k}
	for _, w := range ws {
		if w.format != s.format || w.k != s.k {
			panic(fmt.Sprintf("gemm.StackRows: a %v matrix of width %d among %v ones of width %d", w.format, w.k, s.format, s.k))
		}
		s.n += w.n
	}
	if s.format == BF16 {
		s.half = make([]uint16, 0, s.n*s.k)
	} else {
		s.q, s.scale, s.sum = make([]int8, 0, s.n*s.k), make([]float32, 0, s.n), make([]int32, 0, s.n)
	}
	for _, w := range ws {
		s.half = append(s.half, w.half...)
		s.q = append(s.q, w.q...)
		s.scale = append(s.scale, w.scale...)
		s.sum = append(s.sum, w.sum...)
	}
	return s
}
