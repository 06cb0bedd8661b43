package hf

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
)

// variant is one line of testdata/variants.jsonl.gz (written by testdata/variants.js): a change to
// one of the fixture's tokenizer.json files, with what Hugging Face's tokenizers gives for texts.
type variant struct {
	Base  string                     `json:"base"`
	Name  string                     `json:"name"`
	Patch map[string]json.RawMessage `json:"patch"`
	Vecs  []struct {
		Text        string `json:"text"`
		IDs         []int  `json:"ids"`
		IDsSpecial  []int  `json:"ids_special"`
		Decoded     string `json:"decoded"`
		DecodedSkip string `json:"decoded_skip"`
	} `json:"vectors"`
}

// fixtureDirs returns the directories of the fixture that hold a tokenizer.json.
func fixtureDirs(t *testing.T) []string {
	root := fixture.Path(t, fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var dirs []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), "tokenizer.json")); err == nil {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	return dirs
}

func readVariants(t *testing.T) []variant {
	f, err := os.Open(filepath.Join("testdata", "variants.jsonl.gz"))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var out []variant
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v variant
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// applyPatch changes f as variants.js changed the JSON: model fields are merged, added tokens
// appended, any other key replaced.
func applyPatch(t *testing.T, f fileJSON, patch map[string]json.RawMessage) *fileJSON {
	f.AddedTokens = append([]addedJSON(nil), f.AddedTokens...)
	for k, raw := range patch {
		switch k {
		case "model":
			require.NoError(t, json.Unmarshal(raw, &f.Model))
		case "added_tokens_append":
			var more []addedJSON
			require.NoError(t, json.Unmarshal(raw, &more))
			f.AddedTokens = append(f.AddedTokens, more...)
		case "normalizer":
			f.Normalizer = raw
		case "pre_tokenizer":
			f.PreTokenizer = raw
		case "post_processor":
			f.PostProcessor = raw
		case "decoder":
			f.Decoder = raw
		default:
			t.Fatalf("unknown patch key %q", k)
		}
	}
	return &f
}

// TestHFTokenizerVariantVectors checks the pieces of the format that the two fixture files do not
// use (ignore_merges, GPT-2's ByteLevel regex with add_prefix_space, Digits, Split behaviours,
// Whitespace, Metaspace, other normal forms, added-token flags, unk without byte fallback, other
// post-processors and decoders) against Hugging Face's tokenizers, on variants of those files.
func TestHFTokenizerVariantVectors(t *testing.T) {
	root := fixture.Path(t, fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
	type base struct {
		file   fileJSON
		tables *bpeTables
	}
	bases := map[string]*base{}
	for _, v := range readVariants(t) {
		t.Run(v.Name, func(t *testing.T) {
			b := bases[v.Base]
			if b == nil {
				data, err := os.ReadFile(filepath.Join(root, v.Base, "tokenizer.json"))
				if os.IsNotExist(err) {
					t.Skipf("no %s tokenizer in %s", v.Base, root) // another directory of tokenizers
				}
				require.NoError(t, err)
				b = &base{}
				require.NoError(t, json.Unmarshal(data, &b.file))
				tok, err := build(&b.file)
				require.NoError(t, err)
				b.tables = tok.model.bpeTables
				bases[v.Base] = b
			}
			tok, err := assemble(applyPatch(t, b.file, v.Patch), b.tables)
			require.NoError(t, err)
			for i, vec := range v.Vecs {
				if vec.IDs == nil {
					vec.IDs = []int{}
				}
				got := tok.EncodeWith(vec.Text, false)
				if got == nil {
					got = []int{}
				}
				assert.Equal(t, vec.IDs, got, "%d: encode %q", i, vec.Text)
				assert.Equal(t, vec.IDsSpecial, tok.EncodeWith(vec.Text, true), "%d: encode with specials %q", i, vec.Text)
				s, err := tok.DecodeWith(vec.IDsSpecial, false)
				require.NoError(t, err)
				assert.Equal(t, vec.Decoded, s, "%d: decode %v", i, vec.IDsSpecial)
				s, err = tok.DecodeWith(vec.IDsSpecial, true)
				require.NoError(t, err)
				assert.Equal(t, vec.DecodedSkip, s, "%d: decode skipping specials %v", i, vec.IDsSpecial)
				d := tok.NewStreamDecoder(false)
				var sb strings.Builder
				for _, id := range vec.IDsSpecial {
					piece, err := d.Add(id)
					require.NoError(t, err)
					sb.WriteString(piece)
				}
				sb.WriteString(d.Flush())
				assert.Equal(t, vec.Decoded, sb.String(), "%d: stream decode %v", i, vec.IDsSpecial)
			}
		})
	}
}
