package checkpoint

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/goformer/goformer/autograd"
	"github.com/goformer/goformer/internal/atomicfile"
	"github.com/goformer/goformer/optim"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tensor"
)

// State is what Save stores besides the model's kind, config and parameters.
type State struct {
	// Step is the number of training iterations done (the iteration to resume at).
	Step int
	// Optimizer, when not nil, has its state saved (optim.Optimizer.State). Its parameters must
	// be parameters of the model.
	Optimizer optim.Optimizer
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

// saveHook, when set (by tests), is called at each stage of a save; an error it returns makes the
// save fail there, as a full disk or a crash would.
var saveHook func(stage string) error

func hook(stage string) error {
	if saveHook == nil {
		return nil
	}
	return saveHook(stage)
}

// isNil reports whether v is nil or a nil pointer inside an interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

// Save writes m's kind, config and parameters, its dropout generator's state and the training
// state st to the directory dir, creating it if needed and replacing any checkpoint there. The
// save is atomic: if it fails, the checkpoint previously in dir (if any) is left as it was and
// still loads. One process at a time may save to a directory.
func Save(dir string, m Model, st State) error {
	if err := save(dir, m, st); err != nil {
		return fmt.Errorf("checkpoint.Save: %w", err)
	}
	return nil
}

func save(dir string, m Model, st State) error {
	if st.Step < 0 {
		return fmt.Errorf("negative step %d", st.Step)
	}
	k, cfg, err := describe(m)
	if err != nil {
		return err
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	// A model with adapters trains them alone: they are its parameters, and its frozen base
	// weights are saved beside them (lora.go).
	lora, base := adaptersOf(m)
	fj := fileJSON{
		Format: format, Version: version, Kind: k.name, Config: config, LoRA: toLoRAJSON(lora), Step: st.Step,
		Meta: st.Meta, RNG: map[string][]byte{},
	}
	params := m.Parameters()
	tensors := make(map[string]*tensor.Tensor, len(base)+3*len(params))
	for _, p := range slices.Concat(base, params) {
		name := p.Name()
		switch _, dup := tensors[name]; {
		case name == "":
			return fmt.Errorf("a parameter of shape %v has no name", p.Shape())
		case strings.HasPrefix(name, optimPrefix):
			return fmt.Errorf("parameter name %s: names starting %q are the optimizer's", name, optimPrefix)
		case dup:
			return fmt.Errorf("two parameters are named %s", name)
		}
		tensors[name] = p.Value
	}
	names := make(map[*autograd.Var]string, len(params)) // what an optimizer may train
	for _, p := range params {
		names[p] = p.Name()
	}
	if !isNil(st.Optimizer) {
		if fj.Optimizer, err = optimizerJSON(st.Optimizer, names, tensors); err != nil {
			return err
		}
	}
	for name, g := range st.RNGs {
		if name == DropoutRNG {
			return fmt.Errorf("RNG name %q is reserved for the model's dropout generator", name)
		}
		if isNil(g) {
			return fmt.Errorf("RNG %q is nil", name)
		}
		b, err := g.MarshalBinary()
		if err != nil {
			return fmt.Errorf("RNG %q: %w", name, err)
		}
		fj.RNG[name] = b
	}
	dropout := m.DropoutRNG()
	if dropout == nil {
		return errors.New("a frozen view has no training state to save; save the model it views")
	}
	if fj.RNG[DropoutRNG], err = dropout.MarshalBinary(); err != nil {
		return fmt.Errorf("dropout RNG: %w", err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The tensor file gets a fresh name, so writing it never touches the current checkpoint.
	h := sha256.New()
	tpath, err := atomicfile.WriteTemp(dir, fmt.Sprintf("state-%d-*.safetensors", st.Step), func(w io.Writer) error {
		if err := safetensors.Write(io.MultiWriter(w, h), tensors, map[string]string{"format": format}); err != nil {
			return err
		}
		return hook("tensors")
	})
	if err != nil {
		return err
	}
	fj.Tensors = filepath.Base(tpath)
	fj.SHA256 = hex.EncodeToString(h.Sum(nil))
	js, err := json.MarshalIndent(fj, "", "  ")
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, File), func(w io.Writer) error {
			if _, err := w.Write(append(js, '\n')); err != nil {
				return err
			}
			return hook("json")
		})
	}
	if err != nil {
		os.Remove(tpath) // the previous checkpoint's JSON still names its own tensor file
		return err
	}

	// Older tensor files, and whatever saves killed part-way left behind, are garbage now;
	// failing to delete one costs disk space, not correctness.
	if entries, rerr := os.ReadDir(dir); rerr == nil {
		for _, e := range entries {
			if n := e.Name(); n != fj.Tensors && e.Type().IsRegular() && temporary(n) {
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
	return nil
}

// tempName matches the files a save creates besides checkpoint.json: tensor files
// (state-<step>-<random>.safetensors) and checkpoint.json's temporary file
// (.checkpoint.json.tmp<random>, atomicfile.WriteFile's), where <random> is os.CreateTemp's
// decimal digits. Other files in the directory are not ours, and are left alone.
var tempName = regexp.MustCompile(`^(state-[0-9]+-[0-9]+\.safetensors|\.` + regexp.QuoteMeta(File) + `\.tmp[0-9]+)$`)

// temporary reports whether a file named n is one that a save creates, other than
// checkpoint.json: the next save may remove it.
func temporary(n string) bool { return tempName.MatchString(n) }

// optimizerJSON describes o's state by parameter name (names maps the model's parameters to
// theirs) and adds its slot tensors to tensors.
func optimizerJSON(o optim.Optimizer, names map[*autograd.Var]string, tensors map[string]*tensor.Tensor) (*optimJSON, error) {
	s := o.State()
	ps := o.Params()
	oj := &optimJSON{Kind: s.Kind, Hyper: s.Hyper, Steps: s.Steps, Decayed: []string{}, Slots: s.SlotNames()}
	switch {
	case s.Kind == "":
		return nil, errors.New("the optimizer's state has no kind")
	case s.Steps != nil && len(s.Steps) != len(ps):
		return nil, fmt.Errorf("the optimizer's state has %d step counts for %d parameters", len(s.Steps), len(ps))
	case len(s.Decay) != len(ps):
		return nil, fmt.Errorf("the optimizer's state has %d decay flags for %d parameters", len(s.Decay), len(ps))
	}
	for name, x := range s.Hyper {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("optimizer hyperparameter %s is %v", name, x)
		}
	}
	for _, slot := range oj.Slots {
		if !validSlot(slot) {
			return nil, fmt.Errorf("optimizer slot name %q is empty or has a dot", slot)
		}
		if len(s.Slots[slot]) != len(ps) {
			return nil, fmt.Errorf("the optimizer's state has %d %s tensors for %d parameters", len(s.Slots[slot]), slot, len(ps))
		}
	}
	for i, p := range ps {
		name, ok := names[p]
		if !ok {
			return nil, fmt.Errorf("optimizer parameter %d (shape %v) is not a parameter of the model", i, p.Shape())
		}
		oj.Params = append(oj.Params, name)
		if s.Decay[i] {
			oj.Decayed = append(oj.Decayed, name)
		}
		for _, slot := range oj.Slots {
			if t := s.Slots[slot][i]; t != nil {
				if !slices.Equal(t.Shape(), p.Shape()) {
					return nil, fmt.Errorf("optimizer %s tensor of %s has shape %v, the parameter %v", slot, name, t.Shape(), p.Shape())
				}
				tensors[slotTensor(slot, name)] = t
			}
		}
	}
	if oj.Params == nil {
		oj.Params = []string{}
	}
	return oj, nil
}

// CheckDir reports, as an error, whether Save could not write a checkpoint to dir: it creates dir
// if needed, and writes, syncs and removes a small temporary file there (named as a save names
// its own, so that the next save clears it if the process dies in between). A training program
// calls it at startup, to fail before training rather than at its first save.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint.CheckDir: %w", err)
	}
	tmp, err := atomicfile.WriteTemp(dir, "."+File+".tmp*", func(w io.Writer) error {
		_, err := w.Write([]byte("{}\n"))
		return err
	})
	if err != nil {
		return fmt.Errorf("checkpoint.CheckDir: %w", err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("checkpoint.CheckDir: %w", err)
	}
	return nil
}
