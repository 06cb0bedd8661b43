package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// PEFT's layout for LoRA adapters alone, as its save_pretrained writes them: a directory holding
// adapter_config.json (the rank, alpha and target modules) and adapter_model.safetensors (each
// adapted layer's lora_A.weight (r, in) and lora_B.weight (out, r), named after the layer under
// "base_model.model."). A few megabytes, where the merged model (SaveHF) is the whole model:
// PEFT's PeftModel.from_pretrained(base, dir) puts them back on the base model.
const (
	adapterConfigFile  = "adapter_config.json"
	adapterWeightsFile = "adapter_model.safetensors"
	peftPrefix         = "base_model.model."
)

// peftConfig holds the fields of adapter_config.json that goformer writes and reads; LoadLoRA
// refuses the options that change what the adapters compute and that it does not implement.
type peftConfig struct {
	PeftType       string   `json:"peft_type"`
	TaskType       string   `json:"task_type"`
	R              int      `json:"r"`
	LoraAlpha      float64  `json:"lora_alpha"`
	TargetModules  any      `json:"target_modules"` // a list of names, or (unsupported) a regular expression
	LoraDropout    float64  `json:"lora_dropout"`
	Bias           string   `json:"bias"`
	FanInFanOut    bool     `json:"fan_in_fan_out"`
	UseRSLoRA      bool     `json:"use_rslora"`
	UseDoRA        bool     `json:"use_dora"`
	ModulesToSave  []string `json:"modules_to_save"`
	InferenceMode  bool     `json:"inference_mode"`
	BaseModel      string   `json:"base_model_name_or_path"`
	InitLoraWeight bool     `json:"init_lora_weights"`
}

// peftName is the name PEFT gives the adapter parameter name: the layer's module path in
// transformers' model (GPT2LMHeadModel's layers are under "transformer."), under peftPrefix.
func (m *GPT) peftName(name string) string {
	if !m.Config.llamaNames() {
		name = hfPrefix + name
	}
	return peftPrefix + name
}

// SaveLoRA writes the adapters of m (a model made by WithLoRA) to dir in PEFT's layout, without
// the base model's weights. The two files are written under temporary names and synced before
// either is renamed into place, so an error leaves a previous pair intact. LoadLoRA reads them
// back onto the same base model.
func SaveLoRA(m *GPT, dir string) error {
	if m == nil || m.lora == nil {
		return errors.New("model: SaveLoRA: the model has no adapters (WithLoRA)")
	}
	c := *m.lora
	targets := c.Targets
	if targets == nil { // every layer: the last parts of their names, as PEFT lists them
		for _, nl := range m.blockLinears() {
			last := nl.name[strings.LastIndex(nl.name, ".")+1:]
			if !slices.Contains(targets, last) {
				targets = append(targets, last)
			}
		}
	}
	cfg := peftConfig{
		PeftType: "LORA", TaskType: "CAUSAL_LM", R: c.Rank, LoraAlpha: float64(c.alpha()),
		TargetModules: targets, Bias: "none", InferenceMode: true, InitLoraWeight: true,
		// GPT-2's layers are Conv1D, whose weights PEFT stores (in, out): it merges the
		// adapters' (out, in) product transposed there
		FanInFanOut:   !m.Config.llamaNames(),
		ModulesToSave: nil,
	}
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("model: SaveLoRA: %w", err)
	}
	tensors := make(map[string]*tensor.Tensor, len(m.adapters))
	for _, a := range m.adapters {
		tensors[m.peftName(a.Name())] = a.Value
	}
	if err := saveFiles(dir, adapterWeightsFile, tensors, adapterConfigFile, append(cfgJSON, '\n')); err != nil {
		return fmt.Errorf("model: SaveLoRA: %w", err)
	}
	return nil
}

// LoadLoRA returns base with the LoRA adapters saved in dir (PEFT's layout: SaveLoRA's, or
// PEFT's save_pretrained's) attached, as WithLoRA would attach fresh ones: base's weights frozen,
// the adapters' values from the file, ready to generate, evaluate, train further or Merge. The
// file must hold an A and a B of the right shapes for exactly the layers the config targets.
// Options that change what adapters compute and that goformer does not implement (rsLoRA, DoRA,
// trained biases, extra saved modules, target_modules as a regular expression) are refused.
func LoadLoRA(base *GPT, dir string) (*GPT, error) {
	fail := func(err error) (*GPT, error) { return nil, fmt.Errorf("model: LoadLoRA %s: %w", dir, err) }
	raw, err := os.ReadFile(filepath.Join(dir, adapterConfigFile))
	if err != nil {
		return fail(err)
	}
	var cfg peftConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fail(fmt.Errorf("%s: %w", adapterConfigFile, err))
	}
	var targets []string
	switch t := cfg.TargetModules.(type) {
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return fail(fmt.Errorf("%s: target_modules holds %v, not a name", adapterConfigFile, x))
			}
			targets = append(targets, s)
		}
	case string:
		return fail(fmt.Errorf("%s: target_modules %q is a regular expression, which goformer does not match: list the module names", adapterConfigFile, t))
	default:
		return fail(fmt.Errorf("%s: no target_modules", adapterConfigFile))
	}
	switch {
	case cfg.PeftType != "LORA":
		return fail(fmt.Errorf("%s: peft_type %q; only LORA adapters are supported", adapterConfigFile, cfg.PeftType))
	case cfg.UseRSLoRA:
		return fail(fmt.Errorf("%s: use_rslora (a scale of alpha/√r) is not supported", adapterConfigFile))
	case cfg.UseDoRA:
		return fail(fmt.Errorf("%s: use_dora is not supported", adapterConfigFile))
	case cfg.Bias != "" && cfg.Bias != "none":
		return fail(fmt.Errorf("%s: bias %q: adapters that train biases are not supported", adapterConfigFile, cfg.Bias))
	case len(cfg.ModulesToSave) > 0:
		return fail(fmt.Errorf("%s: modules_to_save %q: fully trained extra modules are not supported", adapterConfigFile, cfg.ModulesToSave))
	case cfg.R <= 0 || cfg.R > 1<<16:
		return fail(fmt.Errorf("%s: rank r = %d", adapterConfigFile, cfg.R))
	case !(cfg.LoraAlpha > 0) || cfg.LoraAlpha > 1e30:
		return fail(fmt.Errorf("%s: lora_alpha %v", adapterConfigFile, cfg.LoraAlpha))
	}
	m, err := base.WithLoRA(LoRAConfig{Rank: cfg.R, Alpha: float32(cfg.LoraAlpha), Targets: targets})
	if err != nil {
		return fail(err)
	}
	st, err := safetensors.Open(filepath.Join(dir, adapterWeightsFile))
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	want := map[string]bool{}
	var errs []error
	for _, a := range m.adapters {
		name := m.peftName(a.Name())
		want[name] = true
		if !st.Has(name) {
			errs = append(errs, fmt.Errorf("no tensor %s for the layer the config targets", name))
			continue
		}
		if got := st.Shape(name); !slices.Equal(got, a.Value.Shape()) {
			errs = append(errs, fmt.Errorf("%s has shape %v, want %v (rank %d)", name, got, a.Value.Shape(), cfg.R))
			continue
		}
		v, err := st.Float32(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.Value.CopyFrom(v)
	}
	for _, name := range st.Names() {
		if !want[name] {
			errs = append(errs, fmt.Errorf("unexpected tensor %s (for a layer this model does not adapt)", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	return m, nil
}
