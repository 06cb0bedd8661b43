package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/nn"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// Checkpoint is a checkpoint read back by Load: validated and held in memory.
type Checkpoint struct {
	Kind string            // the kind of model: KindGPT or KindTransformer
	Step int               // training iterations done
	Meta map[string]string // as saved; nil if none

	config  json.RawMessage
	lora    *loraJSON                 // nil: a model without LoRA adapters
	params  map[string]*tensor.Tensor // by parameter name
	values  int64                     // the parameters' total size
	optim   *optimJSON                // nil: saved without an optimizer
	slots   map[string]*tensor.Tensor // the optimizer's, by tensor name (optim.<slot>.<param>)
	rng     map[string][]byte
	dropout *rand.PCG
}

// readJSON reads and parses dir's checkpoint.json, checking its size, format and version.
func readJSON(dir string) (*fileJSON, error) {
	path := filepath.Join(dir, File)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxJSON {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a checkpoint", path, maxJSON)
	}
	var fj fileJSON
	if err := json.Unmarshal(b, &fj); err != nil {
		return nil, fmt.Errorf("%s: not a valid checkpoint: %w", path, err)
	}
	if fj.Format != format {
		return nil, fmt.Errorf("%s: format %q, want %q", path, fj.Format, format)
	}
	if fj.Version != version {
		return nil, fmt.Errorf("%s: checkpoint version %d, this build reads version %d", path, fj.Version, version)
	}
	return &fj, nil
}

// Load reads and checks the checkpoint in dir: the JSON's fields, the tensor file's checksum, that
// the tensors are exactly the parameters that a model of the saved kind and config has, with
// their shapes (of a model with LoRA adapters, its frozen base weights and the adapters), and that
// the optimizer state (if any) is for parameters of the model, with their shapes. Anything wrong
// is an error.
func Load(dir string) (*Checkpoint, error) {
	c, err := load(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint.Load: %w", err)
	}
	return c, nil
}

func load(dir string) (*Checkpoint, error) {
	fj, err := readJSON(dir)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", filepath.Join(dir, File), fmt.Sprintf(format, args...))
	}
	k := kindNamed(fj.Kind)
	if k == nil {
		return nil, bad("unknown kind of model %q", fj.Kind)
	}
	if fj.Step < 0 {
		return nil, bad("negative step %d", fj.Step)
	}
	// The tensor file must sit in dir itself: a name with a path in it is not one we wrote.
	if fj.Tensors == "" || fj.Tensors != filepath.Base(fj.Tensors) || fj.Tensors == "." || fj.Tensors == ".." {
		return nil, bad("invalid tensor file name %q", fj.Tensors)
	}
	c := &Checkpoint{
		Kind: fj.Kind, Step: fj.Step, Meta: fj.Meta, config: fj.Config, lora: fj.LoRA, optim: fj.Optimizer,
		params: map[string]*tensor.Tensor{}, slots: map[string]*tensor.Tensor{}, rng: fj.RNG,
	}
	// the other generators' states are checked by RestoreRNG, which knows their kind
	b, ok := fj.RNG[DropoutRNG]
	if !ok {
		return nil, bad("no state of the dropout generator")
	}
	c.dropout = new(rand.PCG)
	if err := c.dropout.UnmarshalBinary(b); err != nil {
		return nil, bad("RNG %q: %v", DropoutRNG, err)
	}

	tpath := filepath.Join(dir, fj.Tensors)
	data, err := os.ReadFile(tpath)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != fj.SHA256 {
		return nil, fmt.Errorf("%s: checksum mismatch: the file is corrupt or not the one %s names", tpath, File)
	}
	st, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tpath, err)
	}
	for _, name := range st.Names() {
		t, err := st.Float32(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tpath, err)
		}
		if strings.HasPrefix(name, optimPrefix) {
			c.slots[name] = t
		} else {
			c.params[name] = t
			c.values += int64(t.Size())
		}
	}
	// Building the model once, on the stored tensors themselves, checks them against its
	// description: every parameter present with its shape, nothing else.
	m, err := c.build(fj.Kind, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tpath, err)
	}
	if err := c.checkOptimizer(m.Parameters()); err != nil {
		return nil, bad("optimizer: %v", err)
	}
	return c, nil
}

// checkOptimizer checks the optimizer's description against params, the parameters of the
// model (of a model with adapters, the adapters: not its frozen base weights), and its
// tensors against the description.
func (c *Checkpoint) checkOptimizer(params []*autograd.Var) error {
	o := c.optim
	if o == nil {
		for name := range c.slots {
			return fmt.Errorf("tensor %s, but no optimizer was saved", name)
		}
		return nil
	}
	if o.Kind == "" {
		return fmt.Errorf("no kind")
	}
	trainable := make(map[string]bool, len(params))
	for _, p := range params {
		trainable[p.Name()] = true
	}
	in := map[string]bool{}
	for _, name := range o.Params {
		if !trainable[name] {
			return fmt.Errorf("state for %s, which is not a parameter of the model", name)
		}
		if in[name] {
			return fmt.Errorf("parameter %s is listed twice", name)
		}
		in[name] = true
	}
	if o.Steps != nil && len(o.Steps) != len(o.Params) {
		return fmt.Errorf("%d step counts for %d parameters", len(o.Steps), len(o.Params))
	}
	for i, n := range o.Steps {
		if n < 0 {
			return fmt.Errorf("step count %d for %s", n, o.Params[i])
		}
	}
	decayed := map[string]bool{}
	for _, name := range o.Decayed {
		if !in[name] || decayed[name] {
			return fmt.Errorf("decayed parameter %s is not one of the optimizer's, or listed twice", name)
		}
		decayed[name] = true
	}
	slots := map[string]bool{}
	for _, s := range o.Slots {
		if !validSlot(s) || slots[s] {
			return fmt.Errorf("slot name %q is empty, has a dot or is listed twice", s)
		}
		slots[s] = true
	}
	for _, tname := range slices.Sorted(maps.Keys(c.slots)) {
		slot, param, _ := strings.Cut(strings.TrimPrefix(tname, optimPrefix), ".")
		if !slots[slot] || !in[param] {
			return fmt.Errorf("unexpected tensor %s", tname)
		}
		if t, p := c.slots[tname], c.params[param]; !slices.Equal(t.Shape(), p.Shape()) {
			return fmt.Errorf("tensor %s has shape %v, the parameter %v", tname, t.Shape(), p.Shape())
		}
	}
	return nil
}

// build builds the checkpoint's model, which must be of kind name, from its stored tensors, with
// its LoRA adapters if it has some: shared with the checkpoint when share is set (to check them
// against the model's description), else copied, with the dropout generator's state restored.
func (c *Checkpoint) build(name string, share bool) (Model, error) {
	if c.Kind != name {
		return nil, fmt.Errorf("the checkpoint holds a model of kind %q, not %q", c.Kind, name)
	}
	used := make(map[string]bool, len(c.params))
	src := func(s nn.Spec) (*autograd.Var, error) {
		t, ok := c.params[s.Name]
		if !ok {
			return nil, fmt.Errorf("parameter %s is missing", s.Name)
		}
		if !slices.Equal(t.Shape(), s.Shape) {
			return nil, fmt.Errorf("parameter %s has shape %v, the config needs %v", s.Name, t.Shape(), s.Shape)
		}
		used[s.Name] = true
		if !share {
			t = t.Clone()
		}
		return autograd.NamedParam(s.Name, t), nil
	}
	m, err := kindNamed(name).build(c.config, c.values, src)
	if err == nil {
		m, err = c.withAdapters(m, src)
	}
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(c.params)) {
		if !used[name] {
			return nil, fmt.Errorf("unexpected tensor %s", name)
		}
	}
	if !share {
		*m.DropoutRNG() = *c.dropout
	}
	return m, nil
}
