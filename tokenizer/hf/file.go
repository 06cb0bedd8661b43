package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The JSON of tokenizer.json, as far as the loader reads it.

type fileJSON struct {
	Version       string          `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []addedJSON     `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         modelJSON       `json:"model"`
}

type addedJSON struct {
	ID         *int    `json:"id"`
	Content    *string `json:"content"`
	SingleWord bool    `json:"single_word"`
	Lstrip     bool    `json:"lstrip"`
	Rstrip     bool    `json:"rstrip"`
	Normalized bool    `json:"normalized"`
	Special    bool    `json:"special"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// component is any normalizer, pre-tokenizer, post-processor or decoder: the union of the fields
// that the supported types use, told apart by Type.
type component struct {
	Type string `json:"type"`

	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Decoders      []json.RawMessage `json:"decoders"`

	Prepend    string       `json:"prepend"`
	Pattern    *patternJSON `json:"pattern"`
	Content    string       `json:"content"`
	StripLeft  bool         `json:"strip_left"`
	StripRight bool         `json:"strip_right"`
	Start      int          `json:"start"`
	Stop       int          `json:"stop"`

	Behavior         string `json:"behavior"`
	Invert           bool   `json:"invert"`
	AddPrefixSpace   *bool  `json:"add_prefix_space"`
	UseRegex         *bool  `json:"use_regex"`
	Replacement      string `json:"replacement"`
	PrependScheme    string `json:"prepend_scheme"`
	Split            *bool  `json:"split"`
	IndividualDigits bool   `json:"individual_digits"`

	Single        []templateItem             `json:"single"`
	SpecialTokens map[string]templateSpecial `json:"special_tokens"`
	Cls           []any                      `json:"cls"`
	Sep           []any                      `json:"sep"`
}

type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

type templateItem struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

type templateSpecial struct {
	ID  string `json:"id"`
	IDs []int  `json:"ids"`
}

// parseComponent reads one component; null gives nil.
func parseComponent(raw json.RawMessage, what string) (*component, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("hf: bad %s: %w", what, err)
	}
	return &c, nil
}

// stringPattern returns a String pattern; a Regex one is refused, since Go's regexp does not match
// as Hugging Face's Oniguruma does.
func (c *component) stringPattern(what string) (string, error) {
	switch {
	case c.Pattern == nil:
		return "", fmt.Errorf("hf: %s without a pattern", what)
	case c.Pattern.Regex != nil:
		return "", fmt.Errorf("hf: %s with regex %q is not supported", what, *c.Pattern.Regex)
	case c.Pattern.String == nil || *c.Pattern.String == "":
		return "", fmt.Errorf("hf: %s with an empty pattern", what)
	}
	return *c.Pattern.String, nil
}

// ByteLevel's flags default to true when absent, as in Hugging Face.
func (c *component) addPrefixSpace() bool { return c.AddPrefixSpace == nil || *c.AddPrefixSpace }
func (c *component) useRegex() bool       { return c.UseRegex == nil || *c.UseRegex }

// readMerges reads the merge list, written either as "left right" strings or as [left, right] pairs.
func readMerges(raw json.RawMessage) ([][2]string, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("hf: bad merges: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("hf: merge %d %q is not two tokens separated by one space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}
