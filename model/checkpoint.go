package model

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/internal/atomicfile"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/tensor"
)

// A checkpoint is a directory holding two files:
//
//	checkpoint.json             format, config, step, RNG states, optimizer step counts, metadata,
//	                            and the name and SHA-256 of the tensor file
//	state-<step>-<rand>.safetensors   parameters under their Hugging Face names (wte.weight, ...)
//	                            and, when an optimizer was saved, its moments as optim.m.<name>
//	                            and optim.v.<name>
//
// Saving writes and syncs a tensor file under a fresh name, then replaces checkpoint.json
// atomically (temporary file, fsync, rename, directory fsync), and only then deletes older tensor
// files. checkpoint.json is the commit point: until its rename, it still names the previous tensor
// file, which is left untouched, so a save that fails or crashes part-way leaves the previous
// checkpoint whole and loadable.

// CheckpointFile is the name of a checkpoint's JSON file inside its directory.
const CheckpointFile = "checkpoint.json"

const (
	checkpointFormat  = "goformer-checkpoint"
	checkpointVersion = 1
	// maxCheckpointJSON bounds checkpoint.json: it holds a config, a few RNG states, step counts
	// and small metadata (a vocabulary), so anything larger is not one of ours.
	maxCheckpointJSON = 64 << 20
	// DropoutRNG is the name under which a checkpoint keeps the model's dropout generator.
	DropoutRNG = "dropout"
)

// TrainState is what SaveCheckpoint stores besides the model's config and parameters.
type TrainState struct {
	// Step is the number of training iterations done (the iteration to resume at).
	Step int
	// Optimizer, when not nil, has its moments and step counts saved. Its parameters must be
	// parameters of the model.
	Optimizer *optim.AdamW
	// RNGs are generators to save by name, e.g. the one that samples training batches: a
	// *rand.PCG, or any generator that can marshal its state. The model's own dropout generator
	// is saved as DropoutRNG without being listed.
	RNGs map[string]RNGState
	// Meta is free-form metadata, e.g. a char tokenizer's vocabulary under "vocab".
	Meta map[string]string
}

// RNGState is a random generator whose state a checkpoint can keep, such as *rand.PCG.
type RNGState interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// checkpointJSON is the layout of checkpoint.json.
type checkpointJSON struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Config  Config `json:"config"`
	Step    int    `json:"step"`
	Tensors string `json:"tensors"`
	SHA256  string `json:"tensors_sha256"`
	// OptimSteps holds AdamW's per-parameter step counts by parameter name; nil without an
	// optimizer.
	OptimSteps map[string]int `json:"optim_steps,omitempty"`
	// Optim holds AdamW's hyperparameters; nil without an optimizer (or from before it was kept).
	Optim *optimJSON        `json:"optim,omitempty"`
	RNG   map[string][]byte `json:"rng,omitempty"` // MarshalBinary output, base64 in JSON
	Meta  map[string]string `json:"meta,omitempty"`
}

// optimJSON is AdamW's configuration in checkpoint.json: the learning rate at the save (a
// schedule may have moved it from AdamWConfig.LR), the other hyperparameters, and which
// parameters weight decay applies to.
type optimJSON struct {
	LR          json.Number   `json:"lr"`
	Betas       []json.Number `json:"betas"`
	Eps         json.Number   `json:"eps"`
	WeightDecay json.Number   `json:"weight_decay"`
	Decayed     []string      `json:"decayed"` // parameter names, in the model's order
}

// saveHook, when set (by tests), is called at each stage of a save; an error it returns makes the
// save fail there, as a full disk or a crash would.
var saveHook func(stage string) error

func hook(stage string) error {
	if saveHook == nil {
		return nil
	}
	return saveHook(stage)
}

// SaveCheckpoint writes m's config and parameters and the training state st to the directory dir,
// creating it if needed and replacing any checkpoint there. The save is atomic: if it fails, the
// checkpoint previously in dir (if any) is left as it was and still loads.
//
// The model's dropout generator is saved only if it is the one New made: a Mode.RNG replaced by
// the caller cannot be read back, and saving a model with dropout and such a generator is an
// error.
func SaveCheckpoint(dir string, m *GPT, st TrainState) (err error) {
	if st.Step < 0 {
		return fmt.Errorf("model.SaveCheckpoint: negative step %d", st.Step)
	}
	cj := checkpointJSON{
		Format: checkpointFormat, Version: checkpointVersion,
		Config: m.Config, Step: st.Step, Meta: st.Meta,
		RNG: map[string][]byte{},
	}
	tensors := make(map[string]*tensor.Tensor, 3*len(m.params))
	names := make(map[*autograd.Var]string, len(m.params))
	for _, p := range m.params {
		tensors[p.Name()] = p.Value
		names[p] = p.Name()
	}
	if o := st.Optimizer; o != nil {
		s := o.State()
		cfg := o.Config()
		cj.OptimSteps = make(map[string]int, len(s.Steps))
		cj.Optim = &optimJSON{
			LR:    float32Number(o.LR()),
			Betas: []json.Number{float32Number(cfg.Betas[0]), float32Number(cfg.Betas[1])},
			Eps:   float32Number(cfg.Eps), WeightDecay: float32Number(cfg.WeightDecay),
			Decayed: []string{},
		}
		for i, p := range o.Params() {
			name, ok := names[p]
			if !ok {
				return fmt.Errorf("model.SaveCheckpoint: optimizer parameter %d (shape %v) is not a parameter of the model", i, p.Value.Shape())
			}
			if s.Decay[i] {
				cj.Optim.Decayed = append(cj.Optim.Decayed, name)
			}
			cj.OptimSteps[name] = s.Steps[i]
			tensors["optim.m."+name] = s.Slots["m"][i]
			tensors["optim.v."+name] = s.Slots["v"][i]
		}
	}
	for name, g := range st.RNGs {
		if name == DropoutRNG {
			return fmt.Errorf("model.SaveCheckpoint: RNG name %q is reserved for the model's dropout generator", name)
		}
		if v := reflect.ValueOf(g); g == nil || v.Kind() == reflect.Pointer && v.IsNil() {
			return fmt.Errorf("model.SaveCheckpoint: RNG %q is nil", name)
		}
		b, err := g.MarshalBinary()
		if err != nil {
			return fmt.Errorf("model.SaveCheckpoint: RNG %q: %w", name, err)
		}
		cj.RNG[name] = b
	}
	if m.dropoutSrc == nil {
		return errors.New("model.SaveCheckpoint: a frozen view has no training state to save; save the model it views")
	}
	b, err := m.dropoutSrc.MarshalBinary()
	if err != nil {
		return fmt.Errorf("model.SaveCheckpoint: dropout RNG: %w", err)
	}
	cj.RNG[DropoutRNG] = b

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("model.SaveCheckpoint: %w", err)
	}
	// The tensor file gets a fresh name, so writing it never touches the current checkpoint.
	h := sha256.New()
	tpath, err := atomicfile.WriteTemp(dir, fmt.Sprintf("state-%d-*.safetensors", st.Step), func(w io.Writer) error {
		if err := tensor.WriteSafetensors(io.MultiWriter(w, h), tensors, map[string]string{"format": checkpointFormat}); err != nil {
			return err
		}
		return hook("tensors")
	})
	if err != nil {
		return fmt.Errorf("model.SaveCheckpoint: %w", err)
	}
	cj.Tensors = filepath.Base(tpath)
	cj.SHA256 = hex.EncodeToString(h.Sum(nil))
	js, err := json.MarshalIndent(cj, "", "  ")
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, CheckpointFile), func(w io.Writer) error {
			if _, err := w.Write(append(js, '\n')); err != nil {
				return err
			}
			return hook("json")
		})
	}
	if err != nil {
		os.Remove(tpath) // the previous checkpoint's JSON still names its own tensor file
		return fmt.Errorf("model.SaveCheckpoint: %w", err)
	}

	// Older tensor files are garbage now; failing to delete one costs disk space, not correctness.
	if entries, rerr := os.ReadDir(dir); rerr == nil {
		for _, e := range entries {
			n := e.Name()
			if n != cj.Tensors && strings.HasPrefix(n, "state-") && strings.HasSuffix(n, ".safetensors") {
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
	return nil
}

// Checkpoint is a checkpoint read back by LoadCheckpoint: validated and held in memory.
type Checkpoint struct {
	Config Config
	Step   int               // training iterations done
	Meta   map[string]string // as saved; nil if none

	params     map[string]*tensor.Tensor
	optimM     map[string]*tensor.Tensor
	optimV     map[string]*tensor.Tensor
	optimSteps map[string]int // nil: saved without an optimizer
	optim      *OptimizerConfig
	rng        map[string][]byte
}

// OptimizerConfig is the AdamW configuration a checkpoint was saved with.
type OptimizerConfig struct {
	// AdamW holds the hyperparameters, with LR the learning rate at the save. Its Decay is nil:
	// Decayed says which parameters weight decay applied to.
	AdamW   optim.AdamWConfig
	Decayed []string // parameter names
}

// Optimizer returns the AdamW configuration saved with the checkpoint, and false for a
// checkpoint without one (saved without an optimizer, or by a version that did not keep it).
// Restore does not apply it: the caller builds its optimizer, and may compare.
func (c *Checkpoint) Optimizer() (OptimizerConfig, bool) {
	if c.optim == nil {
		return OptimizerConfig{}, false
	}
	return *c.optim, true
}

func readCheckpointJSON(dir string) (*checkpointJSON, error) {
	path := filepath.Join(dir, CheckpointFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCheckpointJSON+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxCheckpointJSON {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a checkpoint", path, maxCheckpointJSON)
	}
	var cj checkpointJSON
	if err := json.Unmarshal(b, &cj); err != nil {
		return nil, fmt.Errorf("%s: not a valid checkpoint: %w", path, err)
	}
	if cj.Format != checkpointFormat {
		return nil, fmt.Errorf("%s: format %q, want %q", path, cj.Format, checkpointFormat)
	}
	if cj.Version != checkpointVersion {
		return nil, fmt.Errorf("%s: checkpoint version %d, this build reads version %d", path, cj.Version, checkpointVersion)
	}
	return &cj, nil
}

// LoadCheckpoint reads and checks the checkpoint in dir: the JSON's fields, the tensor file's
// checksum, that every parameter the config calls for is present with its shape, and that the
// optimizer state (if any) covers parameters of the model. Anything wrong is an error.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	cj, err := readCheckpointJSON(dir)
	if err != nil {
		return nil, fmt.Errorf("model.LoadCheckpoint: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("model.LoadCheckpoint: %s: %s", filepath.Join(dir, CheckpointFile), fmt.Sprintf(format, args...))
	}
	if err := cj.Config.Validate(); err != nil {
		return nil, bad("%v", err)
	}
	if cj.Step < 0 {
		return nil, bad("negative step %d", cj.Step)
	}
	// The tensor file must sit in dir itself: a name with a path in it is not one we wrote.
	if cj.Tensors == "" || cj.Tensors != filepath.Base(cj.Tensors) || cj.Tensors == "." || cj.Tensors == ".." {
		return nil, bad("invalid tensor file name %q", cj.Tensors)
	}
	for name, n := range cj.OptimSteps {
		if n < 0 {
			return nil, bad("optimizer step count %d for %s", n, name)
		}
	}
	// the other generators' states are checked by RestoreRNG, which knows their kind
	if b, ok := cj.RNG[DropoutRNG]; ok {
		if err := new(rand.PCG).UnmarshalBinary(b); err != nil {
			return nil, bad("RNG %q: %v", DropoutRNG, err)
		}
	}

	tpath := filepath.Join(dir, cj.Tensors)
	data, err := os.ReadFile(tpath)
	if err != nil {
		return nil, fmt.Errorf("model.LoadCheckpoint: %w", err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != cj.SHA256 {
		return nil, fmt.Errorf("model.LoadCheckpoint: %s: checksum mismatch: the file is corrupt or not the one %s names", tpath, CheckpointFile)
	}
	st, err := tensor.ParseSafetensors(data)
	if err != nil {
		return nil, fmt.Errorf("model.LoadCheckpoint: %s: %w", tpath, err)
	}
	ck := &Checkpoint{
		Config: cj.Config, Step: cj.Step, Meta: cj.Meta,
		params: map[string]*tensor.Tensor{}, rng: cj.RNG, optimSteps: cj.OptimSteps,
	}
	if cj.Optim != nil {
		oc, err := cj.Optim.config()
		if err != nil {
			return nil, bad("optimizer configuration: %v", err)
		}
		ck.optim = &oc
	}
	if cj.OptimSteps != nil {
		ck.optimM, ck.optimV = map[string]*tensor.Tensor{}, map[string]*tensor.Tensor{}
	}
	var stored int64
	for _, name := range st.Names() {
		t, err := st.Float32(name)
		if err != nil {
			return nil, fmt.Errorf("model.LoadCheckpoint: %s: %w", tpath, err)
		}
		switch {
		case strings.HasPrefix(name, "optim.m."):
			if ck.optimM == nil {
				return nil, fmt.Errorf("model.LoadCheckpoint: %s: optimizer tensor %s but no optimizer step counts", tpath, name)
			}
			ck.optimM[strings.TrimPrefix(name, "optim.m.")] = t
		case strings.HasPrefix(name, "optim.v."):
			if ck.optimV == nil {
				return nil, fmt.Errorf("model.LoadCheckpoint: %s: optimizer tensor %s but no optimizer step counts", tpath, name)
			}
			ck.optimV[strings.TrimPrefix(name, "optim.v.")] = t
		default:
			ck.params[name] = t
			stored += int64(t.Size())
		}
	}
	// Every block holds 12·C² weights, so a config claiming more than the file holds is wrong;
	// checking this first keeps a doctored config from making us allocate (building the shape
	// list costs one block and a name per layer) beyond the file's real size.
	if c := cj.Config; 12*float64(c.NEmbd)*float64(c.NEmbd)*float64(c.NLayer) > float64(stored) {
		return nil, fmt.Errorf("model.LoadCheckpoint: %s: holds %d parameters, too few for config %+v", tpath, stored, c)
	}
	shapes, err := paramShapes(cj.Config)
	if err != nil {
		return nil, fmt.Errorf("model.LoadCheckpoint: %w", err)
	}
	for name, shape := range shapes {
		t, ok := ck.params[name]
		if !ok {
			return nil, fmt.Errorf("model.LoadCheckpoint: %s: parameter %s is missing", tpath, name)
		}
		if !slices.Equal(t.Shape(), shape) {
			return nil, fmt.Errorf("model.LoadCheckpoint: %s: parameter %s has shape %v, the config needs %v", tpath, name, t.Shape(), shape)
		}
	}
	for name := range ck.params {
		if _, ok := shapes[name]; !ok {
			return nil, fmt.Errorf("model.LoadCheckpoint: %s: unexpected tensor %s", tpath, name)
		}
	}
	for name := range cj.OptimSteps {
		shape, ok := shapes[name]
		if !ok {
			return nil, bad("optimizer state for unknown parameter %s", name)
		}
		for _, mv := range []map[string]*tensor.Tensor{ck.optimM, ck.optimV} {
			t, ok := mv[name]
			if !ok {
				return nil, fmt.Errorf("model.LoadCheckpoint: %s: optimizer moment for %s is missing", tpath, name)
			}
			if !slices.Equal(t.Shape(), shape) {
				return nil, fmt.Errorf("model.LoadCheckpoint: %s: optimizer moment for %s has shape %v, want %v", tpath, name, t.Shape(), shape)
			}
		}
	}
	if len(ck.optimM) != len(cj.OptimSteps) || len(ck.optimV) != len(cj.OptimSteps) {
		return nil, fmt.Errorf("model.LoadCheckpoint: %s: optimizer moments for parameters without step counts", tpath)
	}
	return ck, nil
}

// paramShapes lists the parameter names and shapes of a model of config c.
func paramShapes(c Config) (map[string][]int, error) {
	shapes := map[string][]int{}
	for _, s := range specs(c) {
		shapes[s.Name] = s.Shape
	}
	return shapes, nil
}

// HasOptimizer reports whether the checkpoint holds optimizer state.
func (c *Checkpoint) HasOptimizer() bool { return c.optimSteps != nil }

// Model returns a new model with the checkpoint's config, parameters and dropout generator state.
func (c *Checkpoint) Model() (*GPT, error) {
	if err := c.Config.Validate(); err != nil {
		return nil, err
	}
	m, err := New(c.Config, 0)
	if err != nil {
		return nil, err
	}
	if err := c.Restore(m, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// Restore copies the checkpoint's parameters and dropout generator state into m, which must have
// the same config (dropout aside), and, if o is not nil, its optimizer state into o, whose
// parameters must be m's. On error nothing has been changed.
func (c *Checkpoint) Restore(m *GPT, o *optim.AdamW) error {
	want, got := c.Config, m.Config
	want.Dropout, got.Dropout = 0, 0
	if want != got {
		return fmt.Errorf("model.Checkpoint.Restore: checkpoint config %+v does not match the model's %+v", c.Config, m.Config)
	}
	params := m.params
	for _, p := range params {
		t, ok := c.params[p.Name()]
		if !ok || !tensor.SameShape(t, p.Value) {
			return fmt.Errorf("model.Checkpoint.Restore: no parameter %s of shape %v in the checkpoint", p.Name(), p.Shape())
		}
	}
	var ostate optim.State
	if o != nil {
		ostate = optim.State{Kind: optim.KindAdamW, Hyper: map[string]float64{"lr": float64(o.LR())}, Slots: map[string][]*tensor.Tensor{}}
		if c.optimSteps == nil {
			return errors.New("model.Checkpoint.Restore: the checkpoint holds no optimizer state")
		}
		names := make(map[*autograd.Var]string, len(params))
		for _, p := range params {
			names[p] = p.Name()
		}
		for i, p := range o.Params() {
			name, ok := names[p]
			if !ok {
				return fmt.Errorf("model.Checkpoint.Restore: optimizer parameter %d (shape %v) is not a parameter of the model", i, p.Value.Shape())
			}
			n, ok := c.optimSteps[name]
			if !ok {
				return fmt.Errorf("model.Checkpoint.Restore: the checkpoint has no optimizer state for %s", name)
			}
			ostate.Steps = append(ostate.Steps, n)
			ostate.Slots["m"] = append(ostate.Slots["m"], c.optimM[name])
			ostate.Slots["v"] = append(ostate.Slots["v"], c.optimV[name])
		}
	}
	var dropout *rand.PCG
	if b, ok := c.rng[DropoutRNG]; ok {
		dropout = new(rand.PCG)
		if err := dropout.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("model.Checkpoint.Restore: dropout RNG: %w", err)
		}
		if m.dropoutSrc == nil {
			return errors.New("model.Checkpoint.Restore: cannot restore into a frozen view")
		}
	}
	if o != nil {
		if err := o.LoadState(ostate); err != nil { // checks everything before changing anything
			return fmt.Errorf("model.Checkpoint.Restore: %w", err)
		}
	}
	for _, p := range params {
		p.Value.CopyFrom(c.params[p.Name()])
	}
	if dropout != nil {
		*m.dropoutSrc = *dropout
	}
	return nil
}

// RestoreRNG sets g to the state of the generator saved under name. g must be of the kind that
// was saved; a state it cannot read is an error, and g is then left as the generator's
// UnmarshalBinary leaves it on error (unchanged, for *rand.PCG).
func (c *Checkpoint) RestoreRNG(name string, g RNGState) error {
	b, ok := c.rng[name]
	if !ok {
		return fmt.Errorf("model.Checkpoint.RestoreRNG: no RNG %q in the checkpoint", name)
	}
	if err := g.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("model.Checkpoint.RestoreRNG: %q: %w", name, err)
	}
	return nil
}

// config parses the saved hyperparameters.
func (oj *optimJSON) config() (OptimizerConfig, error) {
	num := func(n json.Number) (float32, error) {
		f, err := strconv.ParseFloat(string(n), 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("bad number %q", n)
		}
		return float32(f), nil
	}
	var c OptimizerConfig
	var errs []error
	get := func(dst *float32, n json.Number) {
		v, err := num(n)
		errs = append(errs, err)
		*dst = v
	}
	if len(oj.Betas) != 2 {
		return c, fmt.Errorf("%d betas, want 2", len(oj.Betas))
	}
	get(&c.AdamW.LR, oj.LR)
	get(&c.AdamW.Betas[0], oj.Betas[0])
	get(&c.AdamW.Betas[1], oj.Betas[1])
	get(&c.AdamW.Eps, oj.Eps)
	get(&c.AdamW.WeightDecay, oj.WeightDecay)
	c.Decayed = oj.Decayed
	return c, errors.Join(errs...)
}
