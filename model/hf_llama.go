package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/goformer/goformer/tensor"
)

// This file reads and writes the Llama family (Llama, SmolLM, Mistral, Qwen2, Qwen3) in the layout
// of Hugging Face transformers' save_pretrained. The GPT's parameters carry the family's own names
// (model.embed_tokens, model.layers.N.self_attn.q_proj, ..., model.norm, lm_head) and shapes
// (Linear weights (out, in), as torch stores them), so the layout is the identity: each parameter
// is the stored tensor of its name. lm_head.weight is stored only for an untied head.

// hfLMHead is the name of the output head of an untied model.
const hfLMHead = "lm_head.weight"

// hfEmbedTokens is the name of the token embedding, which a tied model's head reuses.
const hfEmbedTokens = "model.embed_tokens.weight"

// loadHFLlamaTensors builds a GPT for cfg (a Llama-family config) from the tensors of st.
func loadHFLlamaTensors(cfg Config, st hfStore) (*GPT, error) {
	// A layer has at least 9 tensors (4 projections, 3 feed-forward weights, 2 norms): bound
	// num_hidden_layers by the file before listing what it should hold.
	if n := len(st.Names()); cfg.NLayer > n/9 {
		return nil, fmt.Errorf("config.json says num_hidden_layers %d but the file holds only %d tensors", cfg.NLayer, n)
	}
	layout := specs(cfg)
	tiedHead := false // a tied model whose file stores the head anyway: it must equal the embedding
	errs := checkLayout(st, layout, func(name string) error {
		if name == hfLMHead && !cfg.UntiedHead {
			tiedHead = true
			return checkStored(st, name, []int{cfg.VocabSize, cfg.NEmbd})
		}
		return fmt.Errorf("unexpected tensor %q (does config.json match the file?)", name)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	vals := make(map[string]*tensor.Tensor, len(layout))
	for _, s := range layout {
		v, err := st.Float32(s.Name)
		if err != nil {
			return nil, err
		}
		vals[s.Name] = v
	}
	if tiedHead {
		head, err := st.Float32(hfLMHead)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(head.Data(), vals[hfEmbedTokens].Data()) {
			return nil, errors.New("lm_head.weight differs from model.embed_tokens.weight, and config.json says they are tied (tie_word_embeddings)")
		}
	}
	return assembleGPT(cfg, vals)
}

// hfLlamaTensors returns m's parameters under their stored names: the identity.
func hfLlamaTensors(m *GPT) (map[string]*tensor.Tensor, error) {
	out := make(map[string]*tensor.Tensor, len(m.params))
	for _, p := range m.params {
		out[p.Name()] = p.Value.Contiguous()
	}
	for _, s := range specs(m.Config) {
		v, ok := out[s.Name]
		if !ok {
			return nil, fmt.Errorf("model has no parameter %q", s.Name)
		}
		if !slices.Equal(v.Shape(), s.Shape) {
			return nil, fmt.Errorf("parameter %q has shape %v, want %v", s.Name, v.Shape(), s.Shape)
		}
	}
	return out, nil
}

// hfArchFor returns the family member whose config class describes cfg, preferring arch (what
// the model was loaded as) when that one can.
func hfArchFor(cfg Config, arch string) (hfFamily, error) {
	fits := func(f hfFamily) bool {
		qkv, out, ff := cfg.qkvBias(), cfg.outBias(), cfg.ffBias() // the biases the model has
		attnBias := qkv == out && (!qkv || f.attentionBias)
		switch {
		case cfg.QKNorm != f.qkNorm, ff && !f.mlpBias:
			return false
		case f.qkvBias:
			return qkv && !out
		default:
			return attnBias
		}
	}
	if f, ok := hfFamilyOfArch(arch); ok && fits(f) {
		return f, nil
	}
	for _, f := range hfFamilies {
		if f.slidingWindow == 0 && fits(f) { // Mistral only by name: its class's default window
			return f, nil
		}
	}
	return hfFamily{}, fmt.Errorf("no Hugging Face config class has this model's biases and QK-norm (QKVBias %v, OutBias %v, FFBias %v, QKNorm %v)",
		cfg.qkvBias(), cfg.outBias(), cfg.ffBias(), cfg.QKNorm)
}

func hfFamilyOfArch(arch string) (hfFamily, bool) {
	for _, f := range hfFamilies {
		if f.arch == arch {
			return f, true
		}
	}
	return hfFamily{}, false
}

// hfLlamaConfigOut is the config.json SaveHF writes for the family, in the order transformers'
// to_json_string keeps (alphabetical). Fields a class does not have are left out (nil).
type hfLlamaConfigOut struct {
	Architectures         []string        `json:"architectures"`
	AttentionBias         *bool           `json:"attention_bias,omitempty"`
	AttentionDropout      json.Number     `json:"attention_dropout"`
	BosTokenID            *int            `json:"bos_token_id,omitempty"`
	EosTokenID            any             `json:"eos_token_id,omitempty"`
	HeadDim               int             `json:"head_dim"`
	HiddenAct             string          `json:"hidden_act"`
	HiddenSize            int             `json:"hidden_size"`
	InitializerRange      json.Number     `json:"initializer_range"`
	IntermediateSize      int             `json:"intermediate_size"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	MLPBias               *bool           `json:"mlp_bias,omitempty"`
	ModelType             string          `json:"model_type"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	RMSNormEps            json.Number     `json:"rms_norm_eps"`
	RopeScaling           *map[string]any `json:"rope_scaling"`
	RopeTheta             json.Number     `json:"rope_theta"`
	SlidingWindow         json.RawMessage `json:"sliding_window,omitempty"` // null where the class has one
	TieWordEmbeddings     bool            `json:"tie_word_embeddings"`
	TorchDtype            string          `json:"torch_dtype"`
	UseCache              bool            `json:"use_cache"`
	UseSlidingWindow      *bool           `json:"use_sliding_window,omitempty"`
	VocabSize             int             `json:"vocab_size"`
}

// pythonFloat renders x as Python's json writes a float: with a ".0" when it is integral.
func pythonFloat(x float64) json.Number {
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if _, err := strconv.Atoi(s); err == nil {
		s += ".0"
	}
	return json.Number(s)
}

// hfLlamaConfigJSON renders cfg as the config class of its family member.
func hfLlamaConfigJSON(cfg Config, meta hfMeta) ([]byte, error) {
	fam, err := hfArchFor(cfg, meta.arch)
	if err != nil {
		return nil, err
	}
	out := hfLlamaConfigOut{
		Architectures:         []string{fam.arch},
		AttentionDropout:      pythonFloat(float64(cfg.Dropout)),
		BosTokenID:            meta.bos,
		HeadDim:               cfg.headDim(),
		HiddenAct:             "silu",
		HiddenSize:            cfg.NEmbd,
		InitializerRange:      "0.02",
		IntermediateSize:      cfg.ffHidden(),
		MaxPositionEmbeddings: cfg.BlockSize,
		ModelType:             fam.modelType,
		NumAttentionHeads:     cfg.NHead,
		NumHiddenLayers:       cfg.NLayer,
		NumKeyValueHeads:      cfg.nKVHead(),
		RMSNormEps:            float32Number(cfg.layerNormEps()),
		RopeTheta:             pythonFloat(cfg.ropeTheta()),
		TieWordEmbeddings:     !cfg.UntiedHead,
		TorchDtype:            "float32",
		UseCache:              true,
		VocabSize:             cfg.VocabSize,
	}
	if fam.attentionBias {
		b := cfg.qkvBias()
		out.AttentionBias = &b
	}
	if fam.mlpBias {
		b := cfg.ffBias()
		out.MLPBias = &b
	}
	if fam.modelType != "llama" { // Mistral, Qwen2 and Qwen3 have a window: none
		out.SlidingWindow = json.RawMessage("null")
	}
	if fam.modelType == "qwen2" || fam.modelType == "qwen3" {
		f := false
		out.UseSlidingWindow = &f
	}
	switch {
	case meta.eosList:
		out.EosTokenID = meta.eos
	case len(meta.eos) == 1:
		out.EosTokenID = meta.eos[0]
	}
	if s := cfg.RopeScaling; s.Type != "" {
		m := map[string]any{"rope_type": s.Type, "factor": pythonFloat(s.Factor)}
		if s.Type == "llama3" {
			m["low_freq_factor"], m["high_freq_factor"] = pythonFloat(s.LowFreqFactor), pythonFloat(s.HighFreqFactor)
			m["original_max_position_embeddings"] = s.OriginalMaxPositions
		}
		out.RopeScaling = &m
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
