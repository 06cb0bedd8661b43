package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/nn"
)

// This file reads the config.json of the Llama family as transformers writes it: LlamaConfig
// (Llama 1–3, SmolLM, TinyLlama), MistralConfig, Qwen2Config and Qwen3Config. Each field that
// decides the computation is read; a field that is absent takes transformers' default for that
// class, as from_pretrained does; anything this library does not compute (another activation, a
// sliding window that would matter, a rope scaling other than linear and llama3, quantized
// weights) is an error.

// hfFamily is what differs between the classes of the family: names and the defaults of their
// config classes.
type hfFamily struct {
	modelType, arch string
	eps             float64 // rms_norm_eps
	headDim         int     // head_dim when absent; 0: hidden_size / num_attention_heads
	qkvBias         bool    // q, k and v projections always biased (Qwen2)
	attentionBias   bool    // attention_bias is a field of the class
	mlpBias         bool    // mlp_bias is a field of the class
	qkNorm          bool    // q_norm and k_norm (Qwen3)
	slidingWindow   int     // the class's default sliding_window, when it always applies (Mistral)
}

var hfFamilies = []hfFamily{
	{modelType: "llama", arch: "LlamaForCausalLM", eps: 1e-6, attentionBias: true, mlpBias: true},
	{modelType: "mistral", arch: "MistralForCausalLM", eps: 1e-6, slidingWindow: 4096},
	{modelType: "qwen2", arch: "Qwen2ForCausalLM", eps: 1e-6, qkvBias: true},
	{modelType: "qwen3", arch: "Qwen3ForCausalLM", eps: 1e-6, headDim: 128, attentionBias: true, qkNorm: true},
}

func hfFamilyOf(modelType string) (hfFamily, bool) {
	for _, f := range hfFamilies {
		if f.modelType == modelType {
			return f, true
		}
	}
	return hfFamily{}, false
}

// hfMeta is what a Hugging Face config.json says beyond the computation, kept by LoadHF so that
// SaveHF writes it back: the architecture and the special tokens.
type hfMeta struct {
	arch    string
	bos     *int
	eos     []int
	eosList bool // eos_token_id was a list (Llama 3 names several)
}

// hfLlamaConfig is the subset of the family's config classes that this library reads. Pointers
// tell a missing (or null) field from a zero one.
type hfLlamaConfig struct {
	ModelType             *string         `json:"model_type"`
	Architectures         []string        `json:"architectures"`
	VocabSize             *int            `json:"vocab_size"`
	HiddenSize            *int            `json:"hidden_size"`
	IntermediateSize      *int            `json:"intermediate_size"`
	NumHiddenLayers       *int            `json:"num_hidden_layers"`
	NumAttentionHeads     *int            `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	HiddenAct             *string         `json:"hidden_act"`
	MaxPositionEmbeddings *int            `json:"max_position_embeddings"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeScaling           *hfRopeScaling  `json:"rope_scaling"`
	RopeParameters        *hfRopeScaling  `json:"rope_parameters"` // transformers 5: theta and scaling together
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               *bool           `json:"mlp_bias"`
	AttentionDropout      *float64        `json:"attention_dropout"`
	BosTokenID            json.RawMessage `json:"bos_token_id"`
	EosTokenID            json.RawMessage `json:"eos_token_id"`
	TorchDtype            *string         `json:"torch_dtype"`
	Dtype                 *string         `json:"dtype"`          // transformers 5's name for torch_dtype
	SlidingWindow         json.RawMessage `json:"sliding_window"` // absent (the class's default), null or a width
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	MaxWindowLayers       *int            `json:"max_window_layers"`
	LayerTypes            []string        `json:"layer_types"`
	QuantizationConfig    json.RawMessage `json:"quantization_config"`
	PretrainingTP         *int            `json:"pretraining_tp"` // how Meta split the matmuls: the same function
}

// hfRopeScaling is rope_scaling (or transformers 5's rope_parameters).
type hfRopeScaling struct {
	RopeType       *string  `json:"rope_type"`
	Type           *string  `json:"type"` // older configs' name for rope_type
	RopeTheta      *float64 `json:"rope_theta"`
	Factor         *float64 `json:"factor"`
	LowFreqFactor  *float64 `json:"low_freq_factor"`
	HighFreqFactor *float64 `json:"high_freq_factor"`
	OriginalMax    *int     `json:"original_max_position_embeddings"`
}

// hfDtypes are the torch dtypes whose weights are read (and widened to float32).
var hfDtypes = []string{"float32", "bfloat16", "float16", "float64"}

// toConfig checks a parsed config.json of the family and converts it.
func (h *hfLlamaConfig) toConfig(fam hfFamily) (Config, hfMeta, error) {
	var errs []error
	meta := hfMeta{arch: fam.arch}
	if len(h.Architectures) > 1 {
		errs = append(errs, fmt.Errorf("architectures %q: want one", h.Architectures))
	}
	for _, a := range h.Architectures {
		if a != fam.arch {
			errs = append(errs, fmt.Errorf("architecture %q is not supported for model_type %q (want %s)", a, fam.modelType, fam.arch))
		}
	}
	need := func(name string, p *int) int { return positiveField(&errs, name, p) }
	cfg := Config{
		VocabSize:   need("vocab_size", h.VocabSize),
		BlockSize:   need("max_position_embeddings", h.MaxPositionEmbeddings),
		NLayer:      need("num_hidden_layers", h.NumHiddenLayers),
		NHead:       need("num_attention_heads", h.NumAttentionHeads),
		NEmbd:       need("hidden_size", h.HiddenSize),
		FFHidden:    need("intermediate_size", h.IntermediateSize),
		NoBias:      true,
		Positions:   PositionsRotary,
		Norm:        NormRMSNorm,
		FeedForward: FeedForwardSwiGLU,
		QKNorm:      fam.qkNorm,
		QKVBias:     fam.qkvBias,
		UntiedHead:  true, // PretrainedConfig's default, and every family class's
	}
	if h.NumKeyValueHeads != nil {
		cfg.NKVHead = need("num_key_value_heads", h.NumKeyValueHeads)
	}
	switch {
	case h.HeadDim != nil:
		cfg.HeadDim = need("head_dim", h.HeadDim)
	case fam.headDim > 0:
		cfg.HeadDim = fam.headDim
	}
	if cfg.HeadDim > 0 && cfg.NHead > 0 && cfg.HeadDim*cfg.NHead == cfg.NEmbd {
		cfg.HeadDim = 0 // the default: NEmbd / NHead
	}
	if h.HiddenAct != nil && *h.HiddenAct != "silu" && *h.HiddenAct != "swish" {
		errs = append(errs, fmt.Errorf("hidden_act %q is not supported (want silu)", *h.HiddenAct))
	}
	eps := fam.eps
	if h.RMSNormEps != nil {
		eps = *h.RMSNormEps
	}
	if !(eps > 0) || eps > 1 {
		errs = append(errs, fmt.Errorf("rms_norm_eps must be in (0, 1], got %v", eps))
	}
	cfg.LayerNormEps = float32(eps)
	if h.TieWordEmbeddings != nil {
		cfg.UntiedHead = !*h.TieWordEmbeddings
	}
	if h.AttentionBias != nil && *h.AttentionBias {
		if !fam.attentionBias {
			errs = append(errs, fmt.Errorf("attention_bias is not a field of %s", fam.arch))
		}
		cfg.QKVBias, cfg.OutBias = true, true
	}
	if h.MLPBias != nil && *h.MLPBias {
		if !fam.mlpBias {
			errs = append(errs, fmt.Errorf("mlp_bias is not a field of %s", fam.arch))
		}
		cfg.FFBias = true
	}
	if h.AttentionDropout != nil {
		if p := *h.AttentionDropout; p >= 0 && p < 1 {
			cfg.Dropout = float32(p)
		} else {
			errs = append(errs, fmt.Errorf("attention_dropout must be in [0, 1), got %v", p))
		}
	}
	theta, scaling, err := h.rope()
	if err != nil {
		errs = append(errs, err)
	}
	cfg.RopeTheta, cfg.RopeScaling = theta, scaling
	if err := h.checkWindow(fam, cfg); err != nil {
		errs = append(errs, err)
	}
	if len(h.QuantizationConfig) > 0 && string(h.QuantizationConfig) != "null" {
		errs = append(errs, errors.New("quantization_config: quantized checkpoints are not supported (use the float32, bfloat16 or float16 weights)"))
	}
	for _, d := range []*string{h.TorchDtype, h.Dtype} {
		if d != nil && !slices.Contains(hfDtypes, *d) {
			errs = append(errs, fmt.Errorf("dtype %q is not supported (want one of %q)", *d, hfDtypes))
		}
	}
	if h.PretrainingTP != nil && *h.PretrainingTP <= 0 {
		errs = append(errs, fmt.Errorf("pretraining_tp must be positive, got %d", *h.PretrainingTP))
	}
	var ok bool
	if meta.bos, _, ok = tokenIDs(h.BosTokenID, true); !ok {
		errs = append(errs, fmt.Errorf("bos_token_id %s: want a token id", h.BosTokenID))
	}
	var eos *int
	if eos, meta.eos, ok = tokenIDs(h.EosTokenID, false); !ok {
		errs = append(errs, fmt.Errorf("eos_token_id %s: want a token id or a list of them", h.EosTokenID))
	} else if eos != nil {
		meta.eos = []int{*eos}
	} else {
		meta.eosList = meta.eos != nil
	}
	for _, id := range append(slices.Clone(meta.eos), derefAll(meta.bos)...) {
		if cfg.VocabSize > 0 && (id < 0 || id >= cfg.VocabSize) {
			errs = append(errs, fmt.Errorf("special token id %d is outside the vocabulary [0, %d)", id, cfg.VocabSize))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, hfMeta{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, hfMeta{}, err
	}
	return cfg, meta, nil
}

func derefAll(p *int) []int {
	if p == nil {
		return nil
	}
	return []int{*p}
}

// tokenIDs parses a special token field: absent or null, one id, or (unless single) a list.
func tokenIDs(raw json.RawMessage, single bool) (one *int, list []int, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, true
	}
	var id int
	if err := json.Unmarshal(raw, &id); err == nil {
		return &id, nil, true
	}
	if single || json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, nil, false
	}
	return nil, list, true
}

// rope returns the rotary base and scaling: rope_theta and rope_scaling, or transformers 5's
// rope_parameters, which holds both.
func (h *hfLlamaConfig) rope() (float64, nn.RopeScaling, error) {
	theta := float64(defaultRopeTheta)
	if h.RopeTheta != nil {
		theta = *h.RopeTheta
	}
	sc := h.RopeScaling
	if h.RopeParameters != nil {
		if h.RopeScaling != nil {
			return 0, nn.RopeScaling{}, errors.New("both rope_scaling and rope_parameters are set")
		}
		sc = h.RopeParameters
		if sc.RopeTheta != nil {
			theta = *sc.RopeTheta
		}
	}
	if !(theta > 0) || math.IsInf(theta, 0) {
		return 0, nn.RopeScaling{}, fmt.Errorf("rope_theta must be positive and finite, got %v", theta)
	}
	if sc == nil {
		return theta, nn.RopeScaling{}, nil
	}
	typ := "default"
	switch {
	case sc.RopeType != nil:
		typ = *sc.RopeType
	case sc.Type != nil:
		typ = *sc.Type
	}
	f := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	var s nn.RopeScaling
	switch typ {
	case "default":
		return theta, s, nil
	case nn.RopeScalingLinear:
		s = nn.RopeScaling{Type: typ, Factor: f(sc.Factor)}
	case nn.RopeScalingLlama3:
		s = nn.RopeScaling{Type: typ, Factor: f(sc.Factor), LowFreqFactor: f(sc.LowFreqFactor), HighFreqFactor: f(sc.HighFreqFactor)}
		if sc.OriginalMax != nil {
			s.OriginalMaxPositions = *sc.OriginalMax
		}
	default:
		return 0, s, fmt.Errorf("rope_scaling type %q is not supported (want default, linear or llama3)", typ)
	}
	if err := s.Validate(); err != nil {
		return 0, s, err
	}
	return theta, s, nil
}

// checkWindow refuses a sliding window that would change the computation: one narrower than
// the longest sequence the model accepts, on any layer.
func (h *hfLlamaConfig) checkWindow(fam hfFamily, cfg Config) error {
	window := fam.slidingWindow
	switch raw := string(h.SlidingWindow); raw {
	case "":
	case "null":
		window = 0
	default:
		if err := json.Unmarshal(h.SlidingWindow, &window); err != nil {
			return fmt.Errorf("sliding_window %s: want a width or null", raw)
		}
	}
	used := window > 0
	switch {
	case h.LayerTypes != nil:
		used = used && slices.Contains(h.LayerTypes, "sliding_attention")
		for _, t := range h.LayerTypes {
			if t != "full_attention" && t != "sliding_attention" {
				return fmt.Errorf("layer_types: %q is not supported", t)
			}
		}
	case fam.slidingWindow == 0: // Qwen2 and Qwen3: only with use_sliding_window, from max_window_layers on
		used = used && h.UseSlidingWindow != nil && *h.UseSlidingWindow &&
			(h.MaxWindowLayers == nil || *h.MaxWindowLayers < cfg.NLayer)
	}
	if used && window < cfg.BlockSize {
		return fmt.Errorf("sliding_window %d is shorter than max_position_embeddings %d: sliding-window attention is not supported", window, cfg.BlockSize)
	}
	return nil
}
