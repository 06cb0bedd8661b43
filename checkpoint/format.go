package checkpoint

import (
	"encoding/json"
	"strings"
)

// A checkpoint is a directory holding two files:
//
//	checkpoint.json                   format and version, the kind of model and its config, the
//	                                  LoRA adapters' configuration (a GPT with adapters), the
//	                                  step, RNG states, the optimizer's kind, hyperparameters and
//	                                  step counts, metadata, and the name and SHA-256 of the
//	                                  tensor file
//	state-<step>-<rand>.safetensors   the parameters under their names (wte.weight, ...) and the
//	                                  optimizer's per-parameter tensors as optim.<slot>.<name>
//	                                  (optim.m.wte.weight, optim.momentum.ln_f.bias, ...); of a
//	                                  model with adapters, the frozen base weights under their
//	                                  names and the adapters, its parameters, under theirs
//	                                  (h.0.attn.c_attn.lora_A.weight, ...)
//
// Saving writes and syncs a tensor file under a fresh name, then replaces checkpoint.json
// atomically (temporary file, fsync, rename, directory fsync), and only then deletes older tensor
// files and the temporary files of earlier saves killed part-way (files named as a save names
// them, nothing else). checkpoint.json is the commit point: until its rename, it still names the
// previous tensor file, which is left untouched, so a save that fails or crashes part-way leaves
// the previous checkpoint whole and loadable. One process at a time may save to a directory.

// File is the name of a checkpoint's JSON file inside its directory.
const File = "checkpoint.json"

const (
	format = "goformer-checkpoint"
	// version 2: any model kind and any optimizer (kind, hyperparameters, named slots); version 1
	// held a GPT and AdamW's moments only.
	version = 2
	// maxJSON bounds checkpoint.json: it holds a config, a few RNG states, step counts and small
	// metadata (a vocabulary), so anything larger is not one of ours.
	maxJSON = 64 << 20
	// optimPrefix starts the names of the optimizer's tensors in the tensor file.
	optimPrefix = "optim."
)

// DropoutRNG is the name under which a checkpoint keeps the model's dropout generator.
const DropoutRNG = "dropout"

// fileJSON is the layout of checkpoint.json.
type fileJSON struct {
	Format    string            `json:"format"`
	Version   int               `json:"version"`
	Kind      string            `json:"kind"`           // the kind of model, e.g. KindGPT
	Config    json.RawMessage   `json:"config"`         // the model's config, as its kind's type marshals it
	LoRA      *loraJSON         `json:"lora,omitempty"` // nil: a model without LoRA adapters
	Step      int               `json:"step"`
	Tensors   string            `json:"tensors"`
	SHA256    string            `json:"tensors_sha256"`
	Optimizer *optimJSON        `json:"optimizer,omitempty"` // nil: saved without an optimizer
	RNG       map[string][]byte `json:"rng"`                 // MarshalBinary output, base64 in JSON
	Meta      map[string]string `json:"meta,omitempty"`
}

// loraJSON is the configuration of a GPT's LoRA adapters (model.LoRAConfig) in checkpoint.json.
// Its seed, which drew the adapters' initial values only, is not kept. A build from before LoRA
// checkpoints ignores the field and refuses the checkpoint at its first adapter tensor.
type loraJSON struct {
	Rank    int      `json:"rank"`
	Alpha   float32  `json:"alpha"`   // 0: Rank
	Targets []string `json:"targets"` // null: every Linear layer of the blocks
}

// optimJSON is an optimizer's state in checkpoint.json, by parameter name; its tensors are in the
// tensor file.
type optimJSON struct {
	Kind  string             `json:"kind"`  // optim.State.Kind
	Hyper map[string]float32 `json:"hyper"` // optim.State.Hyper: the learning rate at the save, betas, ...
	// Params names the optimizer's parameters, in its order.
	Params []string `json:"params"`
	// Steps holds the parameters' step counts, aligned with Params; absent for an optimizer
	// that keeps none.
	Steps   []int    `json:"steps,omitempty"`
	Decayed []string `json:"decayed"` // the parameters weight decay applies to
	// Slots names the per-parameter tensors; a parameter's tensor of slot s is optim.<s>.<name>,
	// absent where the optimizer has none for it yet.
	Slots []string `json:"slots"`
}

// slotTensor is the tensor file's name for the optimizer's slot tensor of a parameter.
func slotTensor(slot, param string) string { return optimPrefix + slot + "." + param }

// validSlot reports whether a slot name can be part of a tensor name and be read back from it.
func validSlot(s string) bool { return s != "" && !strings.Contains(s, ".") }
