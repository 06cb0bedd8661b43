package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/tensor"
)

// This file reads and writes GPT-2 in the layout of Hugging Face transformers' save_pretrained:
// a directory holding config.json and model.safetensors. (Reading also accepts sharded and
// PyTorch weight files: see hf_store.go and hf_shards.go.)
//
// The two layouts differ in three ways:
//   - names: HF prefixes every tensor with "transformer." (GPT2LMHeadModel); the original
//     openai-community/gpt2 files do not. Both are read; "transformer." is written.
//   - Conv1D: GPT-2's c_attn, c_proj and c_fc store their weights as [in, out], the transpose of
//     nn.Linear's (out, in); they are transposed on the way in and on the way out.
//   - the output head: lm_head.weight is tied to wte.weight, so it is normally not stored; when it
//     is, it must equal wte.weight.

const hfPrefix = "transformer."

// hfConfig is the subset of transformers' GPT2Config that decides the computation. Pointers tell
// a missing (or null) field from a zero one.
type hfConfig struct {
	ModelType           *string  `json:"model_type"`
	Architectures       []string `json:"architectures"`
	VocabSize           *int     `json:"vocab_size"`
	NPositions          *int     `json:"n_positions"`
	NCtx                *int     `json:"n_ctx"`
	NEmbd               *int     `json:"n_embd"`
	NLayer              *int     `json:"n_layer"`
	NHead               *int     `json:"n_head"`
	NInner              *int     `json:"n_inner"`
	Activation          *string  `json:"activation_function"`
	LayerNormEpsilon    *float64 `json:"layer_norm_epsilon"`
	ResidPdrop          *float64 `json:"resid_pdrop"`
	EmbdPdrop           *float64 `json:"embd_pdrop"`
	AttnPdrop           *float64 `json:"attn_pdrop"`
	ScaleAttnWeights    *bool    `json:"scale_attn_weights"`
	ScaleByLayerIdx     *bool    `json:"scale_attn_by_inverse_layer_idx"`
	AddCrossAttention   *bool    `json:"add_cross_attention"`
	TieWordEmbeddings   *bool    `json:"tie_word_embeddings"`
	ReorderUpcastAttn   *bool    `json:"reorder_and_upcast_attn"` // numerics only: accepted
	InitializerRange    *float64 `json:"initializer_range"`       // training only: ignored
	TransformersVersion *string  `json:"transformers_version"`    // informational
}

// hfActivations maps activation_function to Config.GELUTanh. gelu_new, gelu_pytorch_tanh and
// gelu_fast are the same tanh formula evaluated differently; gelu and gelu_python are the erf form.
var hfActivations = map[string]bool{
	"gelu_new": true, "gelu_pytorch_tanh": true, "gelu_fast": true,
	"gelu": false, "gelu_python": false,
}

// toConfig checks a parsed config.json and converts it.
func (h *hfConfig) toConfig() (Config, error) {
	var errs []error
	if h.ModelType == nil {
		errs = append(errs, errors.New(`no "model_type" (want "gpt2")`))
	} else if *h.ModelType != "gpt2" {
		errs = append(errs, fmt.Errorf(`model_type %q is not supported (want gpt2, llama, mistral, qwen2 or qwen3)`, *h.ModelType))
	}
	for _, a := range h.Architectures {
		if a != "GPT2LMHeadModel" && a != "GPT2Model" {
			errs = append(errs, fmt.Errorf("architecture %q is not supported (want GPT2LMHeadModel or GPT2Model)", a))
		}
	}
	need := func(name string, p *int) int { return positiveField(&errs, name, p) }
	cfg := Config{
		VocabSize: need("vocab_size", h.VocabSize),
		NLayer:    need("n_layer", h.NLayer),
		NHead:     need("n_head", h.NHead),
		NEmbd:     need("n_embd", h.NEmbd),
	}
	if h.NPositions != nil {
		cfg.BlockSize = need("n_positions", h.NPositions)
	} else {
		cfg.BlockSize = need("n_ctx", h.NCtx) // older configs
	}
	if h.NInner != nil && *h.NInner != 4*cfg.NEmbd {
		errs = append(errs, fmt.Errorf("n_inner %d is not supported (the MLP is 4·n_embd = %d wide)", *h.NInner, 4*cfg.NEmbd))
	}
	if h.Activation == nil {
		cfg.GELUTanh = true // GPT2Config's default is gelu_new
	} else if tanh, ok := hfActivations[*h.Activation]; ok {
		cfg.GELUTanh = tanh
	} else {
		errs = append(errs, fmt.Errorf("activation_function %q is not supported (want gelu_new, gelu_pytorch_tanh or gelu)", *h.Activation))
	}
	if h.LayerNormEpsilon != nil {
		if e := *h.LayerNormEpsilon; e > 0 {
			cfg.LayerNormEps = float32(e)
		} else {
			errs = append(errs, fmt.Errorf("layer_norm_epsilon must be positive, got %v", e))
		}
	}
	// One dropout probability serves all three places; HF's configs set them equal. It applies
	// when the model trains; Frozen views and generation use none.
	for _, p := range []*float64{h.ResidPdrop, h.EmbdPdrop, h.AttnPdrop} {
		if p != nil && float32(*p) > cfg.Dropout {
			cfg.Dropout = float32(*p)
		}
	}
	if h.ScaleAttnWeights != nil && !*h.ScaleAttnWeights {
		errs = append(errs, errors.New("scale_attn_weights false is not supported"))
	}
	if h.ScaleByLayerIdx != nil && *h.ScaleByLayerIdx {
		errs = append(errs, errors.New("scale_attn_by_inverse_layer_idx true is not supported"))
	}
	if h.AddCrossAttention != nil && *h.AddCrossAttention {
		errs = append(errs, errors.New("add_cross_attention true is not supported"))
	}
	if h.TieWordEmbeddings != nil && !*h.TieWordEmbeddings {
		errs = append(errs, errors.New("tie_word_embeddings false (a separate output head) is not supported: the GPT's output head is wte"))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ParseHFConfig converts the contents of a Hugging Face config.json to a Config: GPT-2's
// (model_type gpt2) or the Llama family's (llama, mistral, qwen2, qwen3; see hf_llama_config.go).
func ParseHFConfig(data []byte) (Config, error) {
	cfg, _, err := parseHFConfig(data)
	return cfg, err
}

// parseHFConfig is ParseHFConfig, also returning what the file says beyond the computation
// (empty for GPT-2).
func parseHFConfig(data []byte) (Config, hfMeta, error) {
	var probe struct {
		ModelType *string `json:"model_type"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return Config{}, hfMeta{}, fmt.Errorf("model: config.json: %w", err)
	}
	if probe.ModelType != nil {
		if fam, ok := hfFamilyOf(*probe.ModelType); ok {
			var h hfLlamaConfig
			if err := json.Unmarshal(data, &h); err != nil {
				return Config{}, hfMeta{}, fmt.Errorf("model: config.json: %w", err)
			}
			cfg, meta, err := h.toConfig(fam)
			if err != nil {
				return Config{}, hfMeta{}, fmt.Errorf("model: config.json: %w", err)
			}
			return cfg, meta, nil
		}
	}
	var h hfConfig
	if err := json.Unmarshal(data, &h); err != nil {
		return Config{}, hfMeta{}, fmt.Errorf("model: config.json: %w", err)
	}
	cfg, err := h.toConfig()
	if err != nil {
		return Config{}, hfMeta{}, fmt.Errorf("model: config.json: %w", err)
	}
	return cfg, hfMeta{}, nil
}

// hfTensor describes one parameter as stored by Hugging Face.
type hfTensor struct {
	name   string // our name, without prefix
	conv1d bool   // stored [in, out]: transpose to and from nn.Linear's (out, in)
	shape  []int  // our shape
}

// hfLayout lists GPT-2's parameters for cfg (with biases, as HF's GPT-2 always has) in
// construction order, with their shapes in our layout. GPT-2 builds every Linear layer as a
// Conv1D, whose weight is stored transposed.
func hfLayout(cfg Config) []hfTensor {
	cfg.NoBias = false
	var out []hfTensor
	for _, s := range specs(cfg) {
		conv1d := s.Layer == nn.LayerLinear && len(s.Shape) == 2
		out = append(out, hfTensor{name: s.Name, conv1d: conv1d, shape: s.Shape})
	}
	return out
}

// storedShape is the shape HF stores: Conv1D weights transposed.
func (t hfTensor) storedShape() []int {
	if t.conv1d {
		return []int{t.shape[1], t.shape[0]}
	}
	return t.shape
}

// isHFBuffer reports whether a stored name is one of GPT-2's non-parameter attention buffers
// (the causal mask and its fill value), which older checkpoints carry and which are skipped.
func isHFBuffer(name string) bool {
	name = strings.TrimPrefix(name, hfPrefix)
	return strings.HasPrefix(name, "h.") &&
		(strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias"))
}

// LoadHF loads a GPT-2 or a model of the Llama family from a directory written by Hugging Face
// transformers' save_pretrained (or downloaded from the Hub, e.g. openai-community/gpt2,
// HuggingFaceTB/SmolLM2-135M, Qwen/Qwen3-0.6B): config.json and the weights, in the first of these
// layouts that the directory holds:
//
//   - model.safetensors;
//   - model.safetensors.index.json and the safetensors shards it names;
//   - pytorch_model.bin, as torch.save (torch >= 1.6, zip format) writes a state dict;
//   - pytorch_model.bin.index.json and the pytorch_model.bin shards it names.
//
// PyTorch files are read by a restricted unpickler that understands state dicts only and never
// runs code from the file; the legacy format of torch < 1.6 is rejected. Shard files must lie in
// dir, and the index and shards must agree on where every tensor is.
//
// config.json's model_type chooses the family: gpt2, or llama, mistral, qwen2 and qwen3 (see
// hf_llama_config.go for what is read and what is refused, such as a sliding window that would
// matter). For the Llama family, tensors carry transformers' names and lm_head.weight is present
// exactly when the head is untied (tie_word_embeddings false). For GPT-2:
// tensor names may carry the "transformer." prefix or not; F32, F16 and BF16 are read as float32;
// the attention buffers attn.bias and attn.masked_bias are skipped; lm_head.weight may be absent
// (tied) or present and equal to wte.weight. The model is returned ready to train, with
// Config.Dropout set from resid_pdrop/embd_pdrop/attn_pdrop; evaluate it through Frozen.
//
// Every problem with the files (missing, malformed, unsupported options, missing, unexpected or
// mis-shaped tensors) is an error. Shapes are checked against config.json before any tensor
// data is read.
func LoadHF(dir string) (*GPT, error) {
	data, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return nil, fmt.Errorf("model: loading Hugging Face GPT-2: %w", err)
	}
	cfg, meta, err := parseHFConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	st, path, err := openHFWeights(dir)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err) // the error names the file
	}
	defer st.Close()
	load := loadHFTensors
	if meta.arch != "" {
		load = loadHFLlamaTensors
	}
	m, err := load(cfg, st)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	m.hf = meta
	return m, nil
}

// loadHFTensors builds a GPT for cfg from the tensors of st.
func loadHFTensors(cfg Config, st hfStore) (*GPT, error) {
	// A layer has 12 tensors: bound n_layer by the file before listing what it should hold.
	if n := len(st.Names()); cfg.NLayer > n/12 {
		return nil, fmt.Errorf("config.json says n_layer %d but the file holds only %d tensors", cfg.NLayer, n)
	}
	layout := hfLayout(cfg)
	// Resolve every stored name first and check dtypes and shapes, so that nothing is read (or
	// allocated) for a file that does not match its config.
	stored := make(map[string]string, len(layout)) // our name -> stored name
	used := map[string]bool{}
	var errs []error
	for _, t := range layout {
		prefixed, bare := st.Has(hfPrefix+t.name), st.Has(t.name)
		name := t.name
		switch {
		case prefixed && bare:
			errs = append(errs, fmt.Errorf("tensor %q is stored both with and without the %q prefix", t.name, hfPrefix))
			used[t.name], used[hfPrefix+t.name] = true, true
			continue
		case prefixed:
			name = hfPrefix + t.name
		case !bare:
			errs = append(errs, fmt.Errorf("missing tensor %q", hfPrefix+t.name))
			continue
		}
		used[name] = true
		if err := checkStored(st, name, t.storedShape()); err != nil {
			errs = append(errs, err)
		}
		stored[t.name] = name
	}
	lmHead := ""
	for _, name := range st.Names() {
		switch {
		case used[name] || isHFBuffer(name):
		case name == "lm_head.weight":
			lmHead = name
			if err := checkStored(st, name, []int{cfg.VocabSize, cfg.NEmbd}); err != nil {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, fmt.Errorf("unexpected tensor %q (does config.json's n_layer match the file?)", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	vals := make(map[string]*tensor.Tensor, len(layout))
	for _, t := range layout {
		v, err := st.Float32(stored[t.name])
		if err != nil {
			return nil, err
		}
		if t.conv1d {
			v = v.T().Contiguous()
		}
		vals[t.name] = v
	}
	if lmHead != "" {
		head, err := st.Float32(lmHead)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(head.Data(), vals["wte.weight"].Data()) {
			return nil, errors.New("lm_head.weight differs from wte.weight: untied output heads are not supported")
		}
	}
	return assembleGPT(cfg, vals)
}

// checkStored checks that a stored tensor is floating-point and has the expected shape.
// positiveField returns config.json's required positive integer field name (p, nil when the
// file lacks it), adding to errs what is wrong with it.
func positiveField(errs *[]error, name string, p *int) int {
	if p == nil {
		*errs = append(*errs, fmt.Errorf("missing %q", name))
		return 0
	}
	if *p <= 0 {
		*errs = append(*errs, fmt.Errorf("%s must be positive, got %d", name, *p))
	}
	return *p
}

func checkStored(st hfStore, name string, want []int) error {
	switch dt := st.Dtype(name); dt {
	case "F32", "F16", "BF16", "F64":
	default:
		return fmt.Errorf("tensor %q has dtype %s, want a floating-point dtype", name, dt)
	}
	if got := st.Shape(name); !slices.Equal(got, want) {
		return fmt.Errorf("tensor %q has shape %v, want %v", name, got, want)
	}
	return nil
}

// assembleGPT builds the GPT whose parameters (by name, our layout) are vals, which must hold
// every name of hfLayout(cfg).
func assembleGPT(cfg Config, vals map[string]*tensor.Tensor) (*GPT, error) {
	return Build(cfg, func(s nn.Spec) (*autograd.Var, error) {
		v, ok := vals[s.Name]
		if !ok {
			return nil, fmt.Errorf("missing tensor %q", s.Name)
		}
		return autograd.NamedParam(s.Name, v), nil
	})
}

// hfConfigOut is the config.json SaveHF writes, in transformers' field order. Floats are
// json.Numbers so that 1e-5 is written as 1e-05, not as its float64 widening.
type hfConfigOut struct {
	Activation        string      `json:"activation_function"`
	Architectures     []string    `json:"architectures"`
	AttnPdrop         json.Number `json:"attn_pdrop"`
	BosTokenID        *int        `json:"bos_token_id,omitempty"`
	EmbdPdrop         json.Number `json:"embd_pdrop"`
	EosTokenID        *int        `json:"eos_token_id,omitempty"`
	InitializerRange  json.Number `json:"initializer_range"`
	LayerNormEpsilon  json.Number `json:"layer_norm_epsilon"`
	ModelType         string      `json:"model_type"`
	NEmbd             int         `json:"n_embd"`
	NHead             int         `json:"n_head"`
	NInner            *int        `json:"n_inner"`
	NLayer            int         `json:"n_layer"`
	NPositions        int         `json:"n_positions"`
	ResidPdrop        json.Number `json:"resid_pdrop"`
	ScaleAttnWeights  bool        `json:"scale_attn_weights"`
	TieWordEmbeddings bool        `json:"tie_word_embeddings"`
	TorchDtype        string      `json:"torch_dtype"`
	UseCache          bool        `json:"use_cache"`
	VocabSize         int         `json:"vocab_size"`
}

func float32Number(x float32) json.Number {
	return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
}

// hfConfigJSON renders cfg as a transformers GPT2Config.
func hfConfigJSON(cfg Config) ([]byte, error) {
	act := "gelu"
	if cfg.GELUTanh {
		act = "gelu_new"
	}
	drop := float32Number(cfg.Dropout)
	out := hfConfigOut{
		Activation:        act,
		Architectures:     []string{"GPT2LMHeadModel"},
		AttnPdrop:         drop,
		EmbdPdrop:         drop,
		InitializerRange:  "0.02",
		LayerNormEpsilon:  float32Number(cfg.layerNormEps()),
		ModelType:         "gpt2",
		NEmbd:             cfg.NEmbd,
		NHead:             cfg.NHead,
		NLayer:            cfg.NLayer,
		NPositions:        cfg.BlockSize,
		ResidPdrop:        drop,
		ScaleAttnWeights:  true,
		TieWordEmbeddings: true,
		TorchDtype:        "float32",
		UseCache:          true,
		VocabSize:         cfg.VocabSize,
	}
	if cfg.VocabSize > gpt2EndOfText { // GPT-2's <|endoftext|>, GPT2Config's default bos and eos
		id := gpt2EndOfText
		out.BosTokenID, out.EosTokenID = &id, &id
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// gpt2EndOfText is the id of GPT-2's <|endoftext|> token.
const gpt2EndOfText = 50256

// hfTensors returns m's parameters under the names and in the layout SaveHF writes. A model
// built with NoBias gets zero biases, which compute the same function.
func hfTensors(m *GPT) (map[string]*tensor.Tensor, error) {
	params := map[string]*tensor.Tensor{}
	for _, p := range m.params {
		params[p.Name()] = p.Value
	}
	out := make(map[string]*tensor.Tensor, len(params))
	for _, t := range hfLayout(m.Config) {
		v, ok := params[t.name]
		switch {
		case !ok && strings.HasSuffix(t.name, ".bias") && m.Config.NoBias:
			v = tensor.Zeros(t.shape...)
		case !ok:
			return nil, fmt.Errorf("model has no parameter %q", t.name)
		case !slices.Equal(v.Shape(), t.shape):
			return nil, fmt.Errorf("parameter %q has shape %v, want %v", t.name, v.Shape(), t.shape)
		}
		delete(params, t.name)
		if t.conv1d {
			v = v.T()
		}
		out[hfPrefix+t.name] = v.Contiguous()
	}
	for name := range params {
		return nil, fmt.Errorf("parameter %q has no GPT-2 counterpart", name)
	}
	return out, nil
}

// SaveHF writes m as a Hugging Face GPT-2 directory that transformers' from_pretrained (and
// LoadHF) reads: config.json (model_type gpt2, GPT2LMHeadModel) and model.safetensors (F32,
// "transformer."-prefixed names, Conv1D weights as [in, out], the tied head not stored, metadata
// {"format": "pt"}). dir is created if needed; other files in it are left alone.
//
// A model with the Llama family's choices (RMSNorm, rotary positions, SwiGLU) is written in that
// family's layout instead: config.json for the config class that holds its options
// (LlamaForCausalLM; Qwen2ForCausalLM for q/k/v biases alone, Qwen3ForCausalLM with QK-norm; the
// architecture LoadHF read, such as MistralForCausalLM, when it fits) with the special token ids
// LoadHF read, and model.safetensors with transformers' names, lm_head.weight only when untied.
// transformers, PEFT and llama.cpp's converter read the directory as they read one from the Hub.
// A mix of the two families' choices has no layout and is an error. A model with adapters
// (WithLoRA) is saved merged (Merge): a plain model of its base's layout.
//
// Both files are written under temporary names and synced before either is renamed into place,
// so an error leaves any previous config.json and model.safetensors intact.
func SaveHF(m *GPT, dir string) (err error) {
	if m == nil {
		return errors.New("model: SaveHF: nil model")
	}
	if m.lora != nil && m.format == Float32 {
		if m, err = m.Merge(); err != nil {
			return fmt.Errorf("model: SaveHF: %w", err)
		}
	}
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("model: SaveHF: %w", err)
	}
	if m.format != Float32 {
		return fmt.Errorf("model: SaveHF: this is a %v view (Compact), which holds no float32 weight matrices: save the float32 model it was made from", m.format)
	}
	var tensors map[string]*tensor.Tensor
	var cfgJSON []byte
	switch cfg := m.Config; {
	case cfg.llamaNames():
		if tensors, err = hfLlamaTensors(m); err == nil {
			cfgJSON, err = hfLlamaConfigJSON(cfg, m.hf)
		}
	case !cfg.gpt2Blocks():
		err = fmt.Errorf("no Hugging Face layout holds this mix of GPT-2's and the Llama family's choices (GPT-2's has LayerNorm, learned positions, a GELU MLP 4·C wide, NHead KV heads of width C/NH, no QK-norm, a tied head; the Llama family's has RMSNorm, rotary positions and SwiGLU)")
	case cfg.sinusoidal():
		err = errors.New("GPT-2's layout has learned positions (wpe) only, and this model's are sinusoidal")
	default:
		if tensors, err = hfTensors(m); err == nil {
			cfgJSON, err = hfConfigJSON(cfg)
		}
	}
	if err != nil {
		return fmt.Errorf("model: SaveHF: %w", err)
	}
	if err := saveDir(dir, tensors, cfgJSON); err != nil {
		return fmt.Errorf("model: SaveHF: %w", err)
	}
	return nil
}
