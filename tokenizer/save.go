package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// config is the JSON file that Save writes beside the rank file.
type config struct {
	Pattern string         `json:"pattern"`
	Special map[string]int `json:"special_tokens"`
}

// Save writes the tokenizer as two readable files: prefix+".tiktoken" (the mergeable tokens, a
// tiktoken rank file) and prefix+".json" (the split pattern and the special tokens).
func (t *BPE) Save(prefix string) error {
	var buf bytes.Buffer
	if err := t.WriteTiktoken(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(prefix+".tiktoken", buf.Bytes(), 0o644); err != nil {
		return err
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false) // keep <|endoftext|> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(config{t.pattern, t.special}); err != nil {
		return err
	}
	return os.WriteFile(prefix+".json", js.Bytes(), 0o644)
}

// Load reads a tokenizer written by Save: prefix+".tiktoken" and prefix+".json".
func Load(prefix string) (*BPE, error) {
	rf, err := os.Open(prefix + ".tiktoken")
	if err != nil {
		return nil, err
	}
	defer rf.Close()
	cf, err := os.Open(prefix + ".json")
	if err != nil {
		return nil, err
	}
	defer cf.Close()
	return load(rf, cf)
}

// load builds a tokenizer from the contents of the two files that Save writes.
func load(rankFile, configJSON io.Reader) (*BPE, error) {
	var c config
	dec := json.NewDecoder(io.LimitReader(configJSON, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("tokenizer: config: %w", err)
	}
	return ReadTiktoken(rankFile, c.Special, c.Pattern)
}
