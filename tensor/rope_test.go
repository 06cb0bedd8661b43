package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// ropeTables returns cos and sin tables (P, half) of random angles.
func ropeTables(seed uint64, p, half int) (cos, sin *Tensor, angle []float64) {
	rng := newRNG(seed)
	cos, sin = Zeros(p, half), Zeros(p, half)
	for i := range p * half {
		a := rng.Float64()*20 - 10
		angle = append(angle, a)
		cos.Data()[i], sin.Data()[i] = float32(math.Cos(a)), float32(math.Sin(a))
	}
	return cos, sin, angle
}

// ropeRef rotates each pair (x[i], x[i+half]) as the complex number x[i] + j·x[i+half] times
// e^(j·angle), in float64.
func ropeRef(x []float32, shape []int, angle []float64, pos []int) []float64 {
	b, t, nh, hs := shape[0], shape[1], shape[2], shape[3]
	half := hs / 2
	out := make([]float64, len(x))
	for bi := range b {
		for ti := range t {
			p := pos[ti]
			if len(pos) == b*t {
				p = pos[bi*t+ti]
			}
			for h := range nh {
				base := ((bi*t+ti)*nh + h) * hs
				for i := range half {
					z := complex(float64(x[base+i]), float64(x[base+half+i]))
					a := angle[p*half+i]
					r := z * complex(math.Cos(a), math.Sin(a))
					out[base+i], out[base+half+i] = real(r), imag(r)
				}
			}
		}
	}
	return out
}

func TestRopeMatchesReference(t *testing.T) {
	for k, shape := range [][]int{{1, 1, 1, 2}, {2, 3, 4, 16}, {3, 7, 3, 6}, {2, 5, 1, 64}} {
		for _, perRow := range []bool{false, true} {
			t.Run(fmt.Sprint(shape, perRow), func(t *testing.T) {
				const p = 40
				cos, sin, angle := ropeTables(uint64(k), p, shape[3]/2)
				rng := newRNG(uint64(10 + k))
				x := RandNormal(rng, 0, 1, shape...)
				n := shape[1]
				if perRow {
					n *= shape[0]
				}
				pos := make([]int, n)
				for i := range pos {
					pos[i] = rng.IntN(p)
				}
				closeTo(t, "rope", Rope(x, cos, sin, pos).Values(), ropeRef(x.Values(), shape, angle, pos), 1e-6, 1e-6)

				// The backward pass is the transpose: <Rope(x), y> = <x, RopeBackward(y)>.
				y := RandNormal(rng, 0, 1, shape...)
				lhs, rhs := 0.0, 0.0
				rx, ry := Rope(x, cos, sin, pos).Values(), RopeBackward(y, cos, sin, pos).Values()
				for i := range rx {
					lhs += float64(rx[i]) * float64(y.Values()[i])
					rhs += float64(x.Values()[i]) * float64(ry[i])
				}
				require.InDelta(t, lhs, rhs, 1e-4*(1+math.Abs(lhs)))
			})
		}
	}
}

func TestRopePanics(t *testing.T) {
	cos, sin, _ := ropeTables(1, 4, 2)
	require.Panics(t, func() { Rope(Zeros(1, 2, 1, 3), cos, sin, []int{0, 1}) }, "odd head size")
	require.Panics(t, func() { Rope(Zeros(1, 2, 1, 4), cos, sin, []int{0, 4}) }, "position past the table")
	require.Panics(t, func() { Rope(Zeros(2, 2, 1, 4), cos, sin, []int{0, 1, 2}) }, "3 positions")
}
