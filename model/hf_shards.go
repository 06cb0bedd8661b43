package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goformer/goformer/tensor"
)

// This file reads sharded checkpoints: an index (model.safetensors.index.json or
// pytorch_model.bin.index.json, as save_pretrained writes with max_shard_size) whose "weight_map"
// names, for every tensor, the shard file in the same directory that holds it:
//
//	{"metadata": {"total_size": 497759232},
//	 "weight_map": {"h.0.attn.c_attn.bias": "model-00001-of-00002.safetensors", ...}}

// maxHFIndex bounds an index file: a real one lists a few thousand names (a few hundred KB).
const maxHFIndex = 64 << 20

// hfShards is a sharded checkpoint: every tensor of every shard, each read from its shard.
type hfShards struct {
	shards []hfStore
	where  map[string]hfStore // tensor name -> the shard holding it
	names  []string
}

var _ hfStore = (*hfShards)(nil)

// openHFShards parses the index at path and opens the shards it names in dir with open. The index
// and the shards must agree exactly: every tensor the index maps to a shard is in it, and every
// tensor of a shard is mapped to that shard, so no tensor can come from two places.
func openHFShards(dir, path string, open func(path string) (hfStore, error)) (_ *hfShards, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxHFIndex+1))
	f.Close()
	if err != nil {
		return nil, err
	}
	weightMap, files, err := parseHFIndex(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &hfShards{where: make(map[string]hfStore, len(weightMap))}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for _, file := range files {
		st, err := open(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("%s: shard %s: %w", path, file, err)
		}
		s.shards = append(s.shards, st)
		for _, name := range st.Names() {
			switch want, listed := weightMap[name]; {
			case !listed:
				return nil, fmt.Errorf("%s: shard %s holds tensor %q, which the index does not list", path, file, name)
			case want != file:
				return nil, fmt.Errorf("%s: shard %s holds tensor %q, which the index maps to %s", path, file, name, want)
			}
			s.where[name] = st
		}
	}
	for name, file := range weightMap {
		if _, ok := s.where[name]; !ok {
			return nil, fmt.Errorf("%s: the index maps tensor %q to %s, which does not hold it", path, name, file)
		}
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	return s, nil
}

// parseHFIndex parses an index file: its weight map and the distinct shard files it names,
// sorted. A tensor named twice, or a shard file that is not a plain relative path inside the
// directory, is an error.
func parseHFIndex(data []byte) (map[string]string, []string, error) {
	if len(data) > maxHFIndex {
		return nil, nil, fmt.Errorf("larger than %d bytes: not a checkpoint index", maxHFIndex)
	}
	var index struct {
		WeightMap json.RawMessage `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, nil, err
	}
	if index.WeightMap == nil || string(index.WeightMap) == "null" {
		return nil, nil, errors.New(`no "weight_map"`)
	}

	// Walk weight_map token by token rather than unmarshalling into a map, which would keep the
	// last of two entries for one name silently.
	dec := json.NewDecoder(bytes.NewReader(index.WeightMap))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New(`"weight_map" is not a JSON object`)
	}
	weightMap := map[string]string{}
	seen := map[string]bool{}
	var files []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name, ok := tok.(string)
		if !ok { // the decoder only returns strings as object keys; be sure anyway
			return nil, nil, errors.New(`bad "weight_map"`)
		}
		var file string
		if err := dec.Decode(&file); err != nil {
			return nil, nil, fmt.Errorf("weight_map[%q] is not a file name: %w", name, err)
		}
		if _, dup := weightMap[name]; dup {
			return nil, nil, fmt.Errorf("the index names tensor %q twice", name)
		}
		// Shards live beside the index. Refuse anything that could reach elsewhere (../x, /etc/x,
		// C:\x); the check is on the name only, so symlinked shards, as in the Hub's cache, work.
		if !filepath.IsLocal(file) || strings.ContainsRune(file, '\\') {
			return nil, nil, fmt.Errorf("the index maps tensor %q to %q, which is not a file inside the directory", name, file)
		}
		weightMap[name] = file
		if !seen[file] {
			seen[file] = true
			files = append(files, file)
		}
	}
	if len(weightMap) == 0 {
		return nil, nil, errors.New(`empty "weight_map"`)
	}
	slices.Sort(files)
	return weightMap, files, nil
}

// Names returns the names of every tensor of every shard, sorted.
func (s *hfShards) Names() []string { return slices.Clone(s.names) }

// Has reports whether a shard holds name.
func (s *hfShards) Has(name string) bool { _, ok := s.where[name]; return ok }

// Dtype returns the stored dtype of name, or "".
func (s *hfShards) Dtype(name string) string {
	if st, ok := s.where[name]; ok {
		return st.Dtype(name)
	}
	return ""
}

// Shape returns the shape of name, or nil.
func (s *hfShards) Shape(name string) []int {
	if st, ok := s.where[name]; ok {
		return st.Shape(name)
	}
	return nil
}

// Float32 reads name from its shard.
func (s *hfShards) Float32(name string) (*tensor.Tensor, error) {
	st, ok := s.where[name]
	if !ok {
		return nil, fmt.Errorf("no tensor named %q in any shard", name)
	}
	return st.Float32(name)
}

// Close closes every shard.
func (s *hfShards) Close() error {
	var errs []error
	for _, st := range s.shards {
		errs = append(errs, st.Close())
	}
	s.shards = nil
	return errors.Join(errs...)
}
