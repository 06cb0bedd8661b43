package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReadFile reads a tokenizer.json.
func ReadFile(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Load reads a tokenizer from a model directory (its tokenizer.json, and its chat template from
// tokenizer_config.json beside it) or from the path of a tokenizer.json. A chat template that is
// missing or cannot be read does not stop the tokenizer from loading: ChatTemplate reports it.
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if st.IsDir() {
		dir, path = path, filepath.Join(path, "tokenizer.json")
	}
	t, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	t.chat, t.chatErr = ReadChatTemplateFile(filepath.Join(dir, "tokenizer_config.json"))
	if errors.Is(t.chatErr, os.ErrNotExist) {
		t.chatErr = ErrNoChatTemplate
	}
	return t, nil
}

// Read reads a tokenizer.json. Anything in it that this package does not implement is an error that
// names it, never a tokenizer that encodes differently.
func Read(r io.Reader) (*Tokenizer, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("hf: bad tokenizer.json: %w", err)
	}
	return build(&f)
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

func build(f *fileJSON) (*Tokenizer, error) {
	return assemble(f, nil)
}

// assemble builds the tokenizer of f. The model's tables, the costly part, are built from the
// file unless shared is given (tests build many variants of one file).
func assemble(f *fileJSON, shared *bpeTables) (*Tokenizer, error) {
	if !isNull(f.Truncation) {
		return nil, errors.New("hf: truncation is not supported")
	}
	if !isNull(f.Padding) {
		return nil, errors.New("hf: padding is not supported")
	}
	t := &Tokenizer{ids: map[string]int{}}
	var err error
	if t.model, err = buildModel(&f.Model); err != nil {
		return nil, err
	}
	if c, err := parseComponent(f.Normalizer, "normalizer"); err != nil {
		return nil, err
	} else if c != nil {
		if t.normalize, err = buildNormalizer(c); err != nil {
			return nil, err
		}
	}
	byteLevel := false
	if c, err := parseComponent(f.PreTokenizer, "pre_tokenizer"); err != nil {
		return nil, err
	} else if c != nil {
		if t.pre, byteLevel, err = buildPreTokenizer(c); err != nil {
			return nil, err
		}
	}
	if c, err := parseComponent(f.PostProcessor, "post_processor"); err != nil {
		return nil, err
	} else if c != nil {
		if t.post, err = buildPostProcessor(c); err != nil {
			return nil, err
		}
	}
	if c, err := parseComponent(f.Decoder, "decoder"); err != nil {
		return nil, err
	} else if c != nil {
		if t.decoder, err = buildDecoder(c); err != nil {
			return nil, err
		}
	}

	// Ids: the model's vocabulary and the added tokens, dense enough to index a slice.
	limit := 2*len(f.Model.Vocab) + 1024
	maxID := -1
	for tok, id := range f.Model.Vocab {
		if id < 0 || id >= limit {
			return nil, fmt.Errorf("hf: token %q has id %d outside [0, %d)", tok, id, limit)
		}
		maxID = max(maxID, id)
	}
	added, specials, err := resolveAdded(f.AddedTokens, f.Model.Vocab, t.normalize)
	if err != nil {
		return nil, err
	}
	for _, a := range added {
		maxID = max(maxID, a.id)
	}
	t.tokens, t.used, t.special = make([]string, maxID+1), make([]bool, maxID+1), make([]bool, maxID+1)
	for tok, id := range f.Model.Vocab {
		if t.used[id] {
			return nil, fmt.Errorf("hf: id %d given to both %q and %q", id, t.tokens[id], tok)
		}
		t.tokens[id], t.used[id] = tok, true
	}
	for _, a := range added {
		t.tokens[a.id], t.used[a.id] = a.display, true
		t.ids[a.content] = a.id
	}
	// As in Hugging Face, decoding skips an id when its token's text is that of a special token.
	for id, tok := range t.tokens {
		t.special[id] = t.used[id] && specials[tok]
	}
	if shared == nil {
		if shared, err = newBPETables(f.Model.Vocab, f.Model.Merges, byteLevel); err != nil {
			return nil, err
		}
	}
	if shared.byteLevel != byteLevel {
		return nil, errors.New("hf: shared tables of another alphabet") // only tests share them
	}
	t.model.bpeTables = shared
	var raw, norm []addedToken
	for _, a := range added {
		if a.normalized {
			norm = append(norm, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.rawAdded = newAddedMatcher(raw, func(a addedToken) string { return a.content })
	t.normAdded = newAddedMatcher(norm, func(a addedToken) string {
		if t.normalize != nil {
			return t.normalize(a.content)
		}
		return a.content
	})
	return t, nil
}

// resolveAdded gives the added tokens the ids that Hugging Face's AddedVocabulary gives them, which
// need not be the ids the file writes: in the file's order, a token already seen or in the model's
// vocabulary keeps that id, any other takes the next id after the vocabulary and the added tokens
// so far. A token repeated with other flags replaces the earlier one. It also returns the set of
// special tokens' texts. A token matched in the normalized text (normalized true) is decoded as its
// normalized text, as Hugging Face does.
func resolveAdded(list []addedJSON, vocab map[string]int, normalize normalizer) ([]addedToken, map[string]bool, error) {
	byContent := map[string]int{}
	byID := map[int]addedToken{}
	var order []int
	specials := map[string]bool{}
	maxAdded := -1
	for i, a := range list {
		if a.ID == nil || a.Content == nil {
			return nil, nil, fmt.Errorf("hf: added token %d without id or content", i)
		}
		if *a.ID < 0 {
			return nil, nil, fmt.Errorf("hf: added token %d (%q) has id %d", i, *a.Content, *a.ID)
		}
		if *a.Content == "" {
			continue // Hugging Face ignores it
		}
		tk := addedToken{content: *a.Content, singleWord: a.SingleWord, lstrip: a.Lstrip, rstrip: a.Rstrip, normalized: a.Normalized, special: a.Special}
		if tk.special {
			specials[tk.content] = true
		}
		id, ok := byContent[tk.content]
		if !ok {
			id, ok = vocab[tk.content]
		}
		if !ok {
			id = len(vocab)
			if maxAdded >= len(vocab) {
				id = maxAdded + 1
			}
		}
		tk.id = id
		tk.display = tk.content
		if tk.normalized && normalize != nil {
			tk.display = normalize(tk.content)
		}
		if _, seen := byID[id]; !seen {
			order = append(order, id)
		}
		byContent[tk.content], byID[id] = id, tk
		maxAdded = max(maxAdded, id)
	}
	out := make([]addedToken, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out, specials, nil
}

// buildModel checks the model's settings; index fills in its tables once the pre-tokenizer has
// said whether it is byte-level.
func buildModel(m *modelJSON) (*bpe, error) {
	if m.Type != "BPE" {
		if m.Type == "" && m.Vocab != nil && len(m.Merges) > 0 {
			m.Type = "BPE" // older files leave the type out
		} else {
			return nil, unsupported("model", m.Type)
		}
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, fmt.Errorf("hf: BPE dropout %g is not supported", *m.Dropout)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, fmt.Errorf("hf: BPE continuing_subword_prefix %q is not supported", *m.ContinuingSubwordPrefix)
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("hf: BPE end_of_word_suffix %q is not supported", *m.EndOfWordSuffix)
	}
	if len(m.Vocab) == 0 {
		return nil, errors.New("hf: BPE model without a vocabulary")
	}
	b := &bpe{unk: -1, fuseUnk: m.FuseUnk, byteFallback: m.ByteFallback, ignoreMerges: m.IgnoreMerges}
	if m.UnkToken != nil {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("hf: unk_token %q is not in the vocabulary", *m.UnkToken)
		}
		b.unk = int32(id)
	}
	return b, nil
}

// newBPETables builds the model's lookup tables from its vocabulary and merges.
func newBPETables(vocab map[string]int, mergesRaw json.RawMessage, byteLevel bool) (*bpeTables, error) {
	merges, err := readMerges(mergesRaw)
	if err != nil {
		return nil, err
	}
	m := &bpeTables{byteLevel: byteLevel}
	// Byte-level vocabularies are stored in GPT-2's alphabet; the model works on raw bytes.
	key := func(tok string) string {
		if m.byteLevel {
			if b, ok := fromByteLevel(tok); ok {
				return string(b)
			}
			return "\x00\x00nb:" + tok // cannot be a piece of raw bytes made by the alphabet
		}
		return tok
	}
	m.vocab = make(map[string]int32, len(vocab))
	for tok, id := range vocab {
		m.vocab[key(tok)] = int32(id)
	}
	for i := range m.byteID {
		m.byteID[i], m.byteToken[i] = -1, -1
		if id, ok := vocab[string(byteChar[i])]; ok {
			m.byteID[i] = int32(id)
		}
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			m.byteToken[i] = int32(id)
		}
	}
	for i := range m.asciiID {
		m.asciiID[i] = -1
		if id, ok := vocab[string(rune(i))]; ok {
			m.asciiID[i] = int32(id)
		}
	}
	m.merges, m.nMerges = newPairTable(len(merges)), len(merges)
	maxID := 0
	for _, id := range vocab {
		maxID = max(maxID, id)
	}
	made := make([]*[2]int, maxID+1) // id -> the first merge that makes it
	for rank, p := range merges {
		a, okA := vocab[p[0]]
		b, okB := vocab[p[1]]
		c, okC := vocab[p[0]+p[1]]
		if !okA || !okB || !okC {
			return nil, fmt.Errorf("hf: merge %d (%q %q) uses a token that is not in the vocabulary", rank, p[0], p[1])
		}
		m.merges.put(int32(a), int32(b), pairVal{int32(rank), int32(c)})
		if made[c] == nil {
			made[c] = &[2]int{a, b}
		}
	}
	// symCount: a token that no merge makes is one symbol; one that merges make is the sum of the
	// first merge that makes it (through a chain no longer than the token, so a loop in a malformed
	// file leaves 0, unknown).
	m.symCount = make([]int32, maxID+1)
	var count func(id, depth int) int32
	count = func(id, depth int) int32 {
		if m.symCount[id] != 0 || depth > 1<<10 {
			return m.symCount[id]
		}
		p := made[id]
		if p == nil {
			m.symCount[id] = 1
			return 1
		}
		a, b := count(p[0], depth+1), count(p[1], depth+1)
		if a > 0 && b > 0 {
			m.symCount[id] = a + b
		}
		return m.symCount[id]
	}
	for id := range m.symCount {
		count(id, 0)
	}
	return m, nil
}
