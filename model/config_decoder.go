package model

import (
	"fmt"
	"math"
)

// This file holds the choices of Config that make GPT-2 and the Llama family configurations of
// one decoder: the norm, the positions, the feed-forward, the key/value heads, the head width,
// QK-norm, the biases and the output head. Their zero values are GPT-2's.

// The values of Config.Norm and Config.FeedForward.
const (
	NormLayerNorm     = "layernorm"
	NormRMSNorm       = "rmsnorm"
	FeedForwardGELU   = "gelu"
	FeedForwardSwiGLU = "swiglu"
)

// defaultRopeTheta is the rotary base of the RoPE paper and of Llama 1 and 2.
const defaultRopeTheta = 10000

func (c Config) rotary() bool  { return c.Positions == PositionsRotary }
func (c Config) rmsNorm() bool { return c.Norm == NormRMSNorm }
func (c Config) swiGLU() bool  { return c.FeedForward == FeedForwardSwiGLU }

// headDim is HS, the width of each attention head.
func (c Config) headDim() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	return c.NEmbd / c.NHead
}

// nKVHead is the number of key/value heads.
func (c Config) nKVHead() int {
	if c.NKVHead > 0 {
		return c.NKVHead
	}
	return c.NHead
}

// ffHidden is the feed-forward's hidden width.
func (c Config) ffHidden() int {
	if c.FFHidden > 0 {
		return c.FFHidden
	}
	return 4 * c.NEmbd
}

func (c Config) ropeTheta() float64 {
	if c.RopeTheta > 0 {
		return c.RopeTheta
	}
	return defaultRopeTheta
}

// The biases of each projection: all of them without NoBias (GPT-2), else those put back.
func (c Config) qkvBias() bool { return !c.NoBias || c.QKVBias }
func (c Config) outBias() bool { return !c.NoBias || c.OutBias }
func (c Config) ffBias() bool  { return !c.NoBias || c.FFBias }

// validateDecoder checks the fields of this file.
func (c Config) validateDecoder() []error {
	var errs []error
	if c.Norm != "" && c.Norm != NormLayerNorm && c.Norm != NormRMSNorm {
		errs = append(errs, fmt.Errorf("Norm must be %q or %q, got %q", NormLayerNorm, NormRMSNorm, c.Norm))
	}
	if c.FeedForward != "" && c.FeedForward != FeedForwardGELU && c.FeedForward != FeedForwardSwiGLU {
		errs = append(errs, fmt.Errorf("FeedForward must be %q or %q, got %q", FeedForwardGELU, FeedForwardSwiGLU, c.FeedForward))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"FFHidden", c.FFHidden}, {"NKVHead", c.NKVHead}, {"HeadDim", c.HeadDim}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s must be >= 0 (0 for the default), got %d", f.name, f.v))
		}
	}
	if c.NKVHead > 0 && c.NHead > 0 && c.NHead%c.NKVHead != 0 {
		errs = append(errs, fmt.Errorf("NHead %d is not a multiple of NKVHead %d", c.NHead, c.NKVHead))
	}
	if !(c.RopeTheta >= 0) || math.IsInf(c.RopeTheta, 0) {
		errs = append(errs, fmt.Errorf("RopeTheta must be finite and >= 0 (0 for %d), got %v", defaultRopeTheta, c.RopeTheta))
	}
	if c.rotary() {
		if c.NHead > 0 && c.NEmbd > 0 && c.HeadDim >= 0 && c.headDim()%2 != 0 {
			errs = append(errs, fmt.Errorf("rotary positions need an even head width, got %d", c.headDim()))
		}
		if err := c.RopeScaling.Validate(); err != nil {
			errs = append(errs, err)
		}
		// The rotation tables hold BlockSize·HS values, as a learned position table would.
		if n := float64(c.BlockSize) * float64(c.headDim()); c.NHead > 0 && n > maxParams {
			errs = append(errs, fmt.Errorf("rotary tables of %.3g values (BlockSize %d, head width %d), more than the %d this library accepts",
				n, c.BlockSize, c.headDim(), int64(maxParams)))
		}
	} else if c.RopeTheta != 0 || c.RopeScaling.Type != "" {
		errs = append(errs, fmt.Errorf("RopeTheta and RopeScaling apply to rotary positions only, and Positions is %q", c.Positions))
	}
	if (c.QKVBias || c.OutBias || c.FFBias) && !c.NoBias {
		errs = append(errs, fmt.Errorf("QKVBias, OutBias and FFBias put back biases that NoBias removes, and NoBias is false (every projection has one)"))
	}
	return errs
}

// llamaNames reports whether the model's parameters carry the Llama family's names: when its
// choices are the family's (RMSNorm, rotary positions, SwiGLU), whose Hugging Face layout holds
// it. Every other configuration carries GPT-2's.
func (c Config) llamaNames() bool { return c.rmsNorm() && c.rotary() && c.swiGLU() }

// gpt2Blocks reports whether cfg keeps every choice of this file at GPT-2's (with learned or
// sinusoidal positions).
func (c Config) gpt2Blocks() bool {
	return !c.rmsNorm() && !c.rotary() && !c.swiGLU() && (c.FFHidden == 0 || c.FFHidden == 4*c.NEmbd) &&
		c.nKVHead() == c.NHead && c.HeadDim == 0 && !c.QKNorm && !c.QKVBias && !c.OutBias && !c.FFBias && !c.UntiedHead
}
