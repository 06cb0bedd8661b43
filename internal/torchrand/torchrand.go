// Package torchrand draws the same random numbers as PyTorch's CPU generator.
//
// torch.manual_seed(s) and torch.Generator().manual_seed(s) start an MT19937 engine from s, and
// ATen turns its 32-bit words into tensors in a few fixed ways: uniform_ takes one word per
// float32, normal_ fills a tensor with uniforms and turns them into normals by Box–Muller in
// blocks of 16, randint takes the remainder of one word (two for ranges of 2³² or more). A
// Generator here makes the same words and the same transformations, so a Go program seeded like
// a PyTorch program can start from the same weights and draw the same batches. That is what lets
// goformer reproduce a PyTorch training run step for step (bench/torch_replay.py shows it).
//
// The float32 arithmetic follows ATen's scalar kernels (aten/src/ATen/native/cpu/
// DistributionTemplates.h and aten/src/ATen/core/DistributionsHelper.h); the tests compare
// against values PyTorch drew (testdata/make_vectors.py).
package torchrand

import (
	"encoding/binary"
	"errors"
	"math"
	"runtime"

	"github.com/goformer/goformer/internal/parallel"
)

// Generator is PyTorch's CPU generator: an MT19937 engine plus the spare normal sample that
// ATen's scalar normal draws keep between calls. The zero value is not usable; call New.
type Generator struct {
	state [mtN]uint32
	next  int // index of the next word of state to temper and return; mtN: twist first

	// spareNormal is the second Box–Muller value of the last scalar normal draw, returned by the
	// next one (ATen's next_double_normal_sample).
	spareNormal    float64
	hasSpareNormal bool
}

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// New returns a generator in the state torch.manual_seed(seed) leaves. Like PyTorch, it uses
// the low 32 bits of seed.
func New(seed uint64) *Generator {
	g := &Generator{next: mtN}
	g.state[0] = uint32(seed)
	for i := 1; i < mtN; i++ {
		prev := g.state[i-1]
		g.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return g
}

// twist computes the next mtN words of state.
func (g *Generator) twist() {
	for i := range mtN {
		y := g.state[i]&mtUpperMask | g.state[(i+1)%mtN]&mtLowerMask
		v := g.state[(i+mtM)%mtN] ^ y>>1
		if y&1 != 0 {
			v ^= mtMatrixA
		}
		g.state[i] = v
	}
	g.next = 0
}

// Uint32 returns the engine's next 32-bit word (ATen's random()).
func (g *Generator) Uint32() uint32 {
	if g.next >= mtN {
		g.twist()
	}
	y := g.state[g.next]
	g.next++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Uint64 returns two words as one, the first as the high half (ATen's random64()).
func (g *Generator) Uint64() uint64 {
	hi := g.Uint32()
	lo := g.Uint32()
	return uint64(hi)<<32 | uint64(lo)
}

// RandInt returns one value of torch.randint(high, ...): uniform in [0, high), the remainder
// of one word, or of two words when high ≥ 2³². It panics unless high > 0.
func (g *Generator) RandInt(high int64) int64 {
	if high <= 0 {
		panic("torchrand.RandInt: high must be positive")
	}
	if uint64(high) >= 1<<32 {
		return int64(g.Uint64() % uint64(high))
	}
	return int64(g.Uint32() % uint32(high))
}

// uniform01 is ATen's uniform_real_distribution<float>(0, 1): the low 24 bits of a word over 2²⁴.
func (g *Generator) uniform01() float32 {
	return float32(g.Uint32()&(1<<24-1)) / (1 << 24)
}

// uniform01Double is uniform_real_distribution<double>(0, 1): the low 53 bits of two words.
func (g *Generator) uniform01Double() float64 {
	return float64(g.Uint64()&(1<<53-1)) / (1 << 53)
}

// FillUniform fills dst as tensor.uniform_(lo, hi) does for float32: one word per value, in
// order, scaled in float64 and rounded once.
func (g *Generator) FillUniform(dst []float32, lo, hi float32) {
	span := float64(hi - lo) // ATen subtracts in float32, then widens
	for i := range dst {
		x := float64(g.Uint32()&(1<<24-1)) / (1 << 24)
		dst[i] = float32(x*span + float64(lo))
	}
}

// FillNormal fills dst as tensor.normal_(mean, std) does for a contiguous float32 tensor.
//
// With 16 or more values, ATen first fills the whole tensor with uniforms, then replaces each
// block of 16 by Box–Muller pairs (value j with value j+8). When the length is not a multiple of
// 16, the last 16 values are drawn again and transformed once more. Shorter tensors are drawn one
// value at a time in float64, and each draw keeps its second value for the next.
func (g *Generator) FillNormal(dst []float32, mean, std float32) {
	n := len(dst)
	if n < 16 {
		for i := range dst {
			dst[i] = float32(g.normalDouble(float64(mean), float64(std)))
		}
		return
	}
	for i := range dst {
		dst[i] = g.uniform01()
	}
	// the blocks are independent: transform them on every core (the arithmetic, and so the
	// result, does not depend on how they are split)
	blocks := n / 16
	workers := runtime.GOMAXPROCS(0)
	if blocks < 1<<12 {
		workers = 1
	}
	parallel.For(blocks, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			boxMuller16(dst[16*i:16*i+16], mean, std)
		}
	})
	if n%16 != 0 {
		tail := dst[n-16:]
		for i := range tail {
			tail[i] = g.uniform01()
		}
		boxMuller16(tail, mean, std)
	}
}

// boxMuller16 is ATen's AVX2 normal_fill_16, which PyTorch runs on x86 machines with AVX2: it
// turns 16 uniforms in [0, 1) into 16 normals, pairing value j with value j+8, in float32 with
// Cephes-style log, sin and cos (mathfun.go).
func boxMuller16(data []float32, mean, std float32) {
	_ = data[15]
	const twoPi = float32(2 * math.Pi)
	for j := range 8 {
		u1 := 1 - data[j] // [0, 1) → (0, 1] for the log
		u2 := data[j+8]
		radius := float32(math.Sqrt(float64(float32(-2 * logCephes(u1)))))
		sin, cos := sinCosCephes(float32(twoPi * u2))
		// ATen's last step is an FMA: n·std + mean rounded once
		data[j] = fma32(float32(radius*cos), std, mean)
		data[j+8] = fma32(float32(radius*sin), std, mean)
	}
}

// fma32 returns a·b + c rounded once to float32, as an FMA instruction does. The float64
// product of two float32s is exact, so s = a·b + c rounded to float64 is one rounding away from
// the exact sum. Rounding s to float32 gives the right answer unless s landed exactly on a
// midpoint between two float32s (float64 can represent those): then whether the exact sum was
// above or below it decides, and the float64 rounding error e (Knuth's TwoSum) says which.
// Results here are normal float32s, whose midpoints have the low 29 bits of a float64 equal
// to 1<<28.
func fma32(a, b, c float32) float32 {
	p, q := float64(a)*float64(b), float64(c)
	s := p + q
	if math.Float64bits(s)&(1<<29-1) == 1<<28 {
		s = offMidpoint(p, q, s)
	}
	return float32(s)
}

// offMidpoint returns s = p + q rounded to float64, a float32 midpoint, moved one float64 step
// toward the exact sum when s is not exact: up in magnitude if the error has s's sign.
func offMidpoint(p, q, s float64) float64 {
	v := s - p
	e := (p - (s - v)) + (q - v)
	if e == 0 {
		return s
	}
	bits := math.Float64bits(s)
	if (math.Float64bits(e)^bits)>>63 == 0 {
		bits++
	} else {
		bits--
	}
	return math.Float64frombits(bits)
}

// normalDouble is ATen's normal_distribution<double>: Box–Muller on two float64 uniforms,
// returning the cosine value and keeping the sine value for the next call.
func (g *Generator) normalDouble(mean, std float64) float64 {
	if g.hasSpareNormal {
		g.hasSpareNormal = false
		return g.spareNormal*std + mean
	}
	u1 := g.uniform01Double()
	u2 := g.uniform01Double()
	r := math.Sqrt(-2 * math.Log1p(-u2))
	theta := 2 * math.Pi * u1
	g.spareNormal, g.hasSpareNormal = r*math.Sin(theta), true
	return r*math.Cos(theta)*std + mean
}

// Skip advances the engine by n words, as n float32 uniform draws would (e.g. the default
// initialisation a PyTorch constructor draws and a later init overwrites).
func (g *Generator) Skip(n int) {
	for range n {
		g.Uint32()
	}
}

// stateSize is the length of MarshalBinary's output: a version byte, the position, the state
// words, a spare-normal flag and value.
const stateSize = 1 + 4 + 4*mtN + 1 + 8

// MarshalBinary returns the generator's state, for checkpoints.
func (g *Generator) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, stateSize)
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(g.next))
	for _, w := range g.state {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	spare := byte(0)
	if g.hasSpareNormal {
		spare = 1
	}
	b = append(b, spare)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(g.spareNormal)), nil
}

// UnmarshalBinary restores a state written by MarshalBinary. On error g is unchanged.
func (g *Generator) UnmarshalBinary(b []byte) error {
	if len(b) != stateSize || b[0] != 1 {
		return errors.New("torchrand: not a generator state written by this version")
	}
	next := binary.LittleEndian.Uint32(b[1:])
	if next > mtN || b[stateSize-9] > 1 {
		return errors.New("torchrand: corrupt generator state")
	}
	g.next = int(next)
	for i := range g.state {
		g.state[i] = binary.LittleEndian.Uint32(b[5+4*i:])
	}
	g.hasSpareNormal = b[stateSize-9] == 1
	g.spareNormal = math.Float64frombits(binary.LittleEndian.Uint64(b[stateSize-8:]))
	return nil
}
