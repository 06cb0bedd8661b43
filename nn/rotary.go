package nn

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/tensor"
)

// Rotary position embeddings (RoPE, Su et al. 2021), as the Llama family uses them: instead of
// adding a position vector to the input, each query and key head vector (HS wide) is rotated
// pairwise by angles proportional to its position. Pair i (elements i and i + HS/2, Hugging
// Face's "rotate half" pairing) turns at the frequency
//
//	invFreq[i] = theta^(−2i/HS),  i < HS/2,
//
// so at position p by the angle p·invFreq[i]. A rotation by p followed by a dot product with
// another rotated by n depends only on p − n: attention scores see relative positions.

// RopeScaling rescales the rotary frequencies, as a config.json's "rope_scaling" asks, to stretch
// a model trained on short contexts to longer ones. The zero value leaves them unchanged.
type RopeScaling struct {
	// Type is "" (none), "linear" (every frequency divided by Factor: positions interpolated) or
	// "llama3" (Llama 3.1's rescale: low frequencies divided by Factor, high ones kept, a smooth
	// blend between).
	Type   string  `json:",omitempty"`
	Factor float64 `json:",omitempty"`
	// llama3 only: the wavelengths that bound the blend are OriginalMaxPositions/LowFreqFactor
	// (longer ones are divided by Factor) and OriginalMaxPositions/HighFreqFactor (shorter ones
	// are kept).
	LowFreqFactor        float64 `json:",omitempty"`
	HighFreqFactor       float64 `json:",omitempty"`
	OriginalMaxPositions int     `json:",omitempty"`
}

// The values of RopeScaling.Type.
const (
	RopeScalingLinear = "linear"
	RopeScalingLlama3 = "llama3"
)

// Validate reports what is wrong with s, if anything.
func (s RopeScaling) Validate() error {
	finitePositive := func(name string, v float64) error {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("rope scaling %s must be positive and finite, got %v", name, v)
		}
		return nil
	}
	switch s.Type {
	case "":
		if s != (RopeScaling{}) {
			return errors.New("rope scaling without a type has parameters")
		}
		return nil
	case RopeScalingLinear:
		return finitePositive("factor", s.Factor)
	case RopeScalingLlama3:
		err := errors.Join(finitePositive("factor", s.Factor), finitePositive("low_freq_factor", s.LowFreqFactor),
			finitePositive("high_freq_factor", s.HighFreqFactor))
		if err != nil {
			return err
		}
		if s.OriginalMaxPositions <= 0 {
			return fmt.Errorf("rope scaling original_max_position_embeddings must be positive, got %d", s.OriginalMaxPositions)
		}
		if s.HighFreqFactor <= s.LowFreqFactor {
			return fmt.Errorf("rope scaling high_freq_factor %v must exceed low_freq_factor %v", s.HighFreqFactor, s.LowFreqFactor)
		}
		return nil
	default:
		return fmt.Errorf("rope scaling type %q is not supported (want %q or %q)", s.Type, RopeScalingLinear, RopeScalingLlama3)
	}
}

// InvFreq returns the HS/2 rotary frequencies for head size headDim and base theta, rescaled as
// s says, in float64.
func InvFreq(headDim int, theta float64, s RopeScaling) []float64 {
	half := headDim / 2
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = math.Pow(theta, -float64(2*i)/float64(headDim))
	}
	switch s.Type {
	case RopeScalingLinear:
		for i := range inv {
			inv[i] /= s.Factor
		}
	case RopeScalingLlama3:
		orig := float64(s.OriginalMaxPositions)
		lo, hi := orig/s.LowFreqFactor, orig/s.HighFreqFactor // wavelength bounds: lo > hi
		for i, f := range inv {
			switch wavelen := 2 * math.Pi / f; {
			case wavelen > lo:
				inv[i] = f / s.Factor
			case wavelen < hi:
			default:
				smooth := (orig/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				inv[i] = (1-smooth)*f/s.Factor + smooth*f
			}
		}
	}
	return inv
}

// Rotary rotates query and key heads by position. It has no parameters. Its cos and sin tables
// (MaxPos, HeadDim/2) are computed on first use (in float64, then rounded to float32) and shared,
// read-only, by every Rotary of the same settings: describing a model (nn.Specs) computes none,
// and a model's frozen views and snapshots, which rebuild their layers, compute them once.
type Rotary struct {
	HeadDim, MaxPos int
	Theta           float64
	Scaling         RopeScaling
}

// rotaryTables holds each setting's tables, computed once.
var rotaryTables sync.Map // Rotary → *rotaryTable

type rotaryTable struct {
	once     sync.Once
	cos, sin *tensor.Tensor
}

// NewRotary returns the rotary embedding of head size headDim (even) for positions below maxPos,
// with base theta and scaling s. The model's config is checked before (s.Validate); a bad
// argument here is a programmer's error and panics.
func NewRotary(headDim, maxPos int, theta float64, s RopeScaling) *Rotary {
	if headDim <= 0 || headDim%2 != 0 || maxPos <= 0 || !(theta > 0) || math.IsInf(theta, 0) {
		panic(fmt.Sprintf("nn.NewRotary: head size %d (want positive and even), max positions %d, theta %v", headDim, maxPos, theta))
	}
	if err := s.Validate(); err != nil {
		panic("nn.NewRotary: " + err.Error())
	}
	return &Rotary{HeadDim: headDim, MaxPos: maxPos, Theta: theta, Scaling: s}
}

// Tables returns the cos and sin tables (MaxPos, HeadDim/2): row p holds cos and sin of p·InvFreq.
// They are shared: do not modify them.
func (r *Rotary) Tables() (cos, sin *tensor.Tensor) {
	t, ok := rotaryTables.Load(*r) // every layer, every decoding step: no new entry to build
	if !ok {
		t, _ = rotaryTables.LoadOrStore(*r, &rotaryTable{})
	}
	tab := t.(*rotaryTable)
	tab.once.Do(func() {
		inv := InvFreq(r.HeadDim, r.Theta, r.Scaling)
		half := r.HeadDim / 2
		cos, sin := tensor.Zeros(r.MaxPos, half), tensor.Zeros(r.MaxPos, half)
		cd, sd := cos.Data(), sin.Data()
		for p := range r.MaxPos {
			for i, f := range inv {
				sn, cs := math.Sincos(float64(p) * f)
				cd[p*half+i], sd[p*half+i] = float32(cs), float32(sn)
			}
		}
		tab.cos, tab.sin = cos, sin
	})
	return tab.cos, tab.sin
}

// Rotate rotates x (B, T, NH, HS) by position: pos holds T positions (the same for every row of
// the batch) or B·T (one per row and step), each below MaxPos.
func (r *Rotary) Rotate(x *autograd.Var, pos []int) *autograd.Var {
	cos, sin := r.Tables()
	return autograd.Rope(x, cos, sin, pos)
}
