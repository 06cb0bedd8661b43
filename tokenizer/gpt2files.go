package tokenizer

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// gpt2Alphabet returns GPT-2's bytes_to_unicode table: byte -> the character that stands for it in
// encoder.json and vocab.bpe. Printable bytes stand for themselves; the other 68 take U+0100 onwards.
func gpt2Alphabet() [256]rune {
	var m [256]rune
	next := rune(0x100)
	for b := range 256 {
		if '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF {
			m[b] = rune(b)
		} else {
			m[b] = next
			next++
		}
	}
	return m
}

// gpt2Bytes decodes a token written in GPT-2's alphabet.
func gpt2Bytes(s string, inv map[rune]byte) (string, error) {
	out := make([]byte, 0, len(s))
	for i, r := range s {
		b, ok := inv[r]
		if !ok {
			return "", fmt.Errorf("character %q at byte %d of %q is not in GPT-2's byte alphabet", r, i, s)
		}
		out = append(out, b)
	}
	return string(out), nil
}

// ReadGPT2 builds GPT-2's tokenizer from its original files, encoder.json (token -> id) and
// vocab.bpe (the merge list), with GPT2Pattern. special names the entries of encoder.json that are
// special tokens rather than merged ones: []string{"<|endoftext|>"} for GPT-2 (gpt2.EndOfText).
//
// The files are checked against each other as tiktoken does: the single bytes rank 0..255 in
// alphabet order, merge i makes the token of rank 256+i, and the ids in encoder.json equal those
// ranks. Every other entry of encoder.json must be one of the named specials, so a vocab.bpe that is
// truncated, or that belongs to another encoder.json, is an error: its missing merges would
// otherwise turn ordinary tokens into specials and ordinary words into fragments.
func ReadGPT2(encoderJSON, vocabBPE io.Reader, special []string) (*BPE, error) {
	alpha := gpt2Alphabet()
	inv := make(map[rune]byte, 256)
	for b, r := range alpha {
		inv[r] = byte(b)
	}
	var enc map[string]int
	if err := json.NewDecoder(encoderJSON).Decode(&enc); err != nil {
		return nil, fmt.Errorf("tokenizer: encoder.json: %w", err)
	}

	// Ranks 0..255 are the single bytes in the order bytes_to_unicode lists them.
	ranks := make(map[string]int, len(enc))
	rank := 0
	order := make([]int, 0, 256)
	for b := range 256 {
		if alpha[b] == rune(b) {
			order = append(order, b)
		}
	}
	for b := range 256 {
		if alpha[b] != rune(b) {
			order = append(order, b)
		}
	}
	for _, b := range order {
		ranks[string([]byte{byte(b)})] = rank
		rank++
	}

	var merges []Merge
	sc := bufio.NewScanner(vocabBPE)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Text()
		if lineNo == 1 && len(line) > 0 && line[0] == '#' || line == "" {
			continue // "#version: 0.2"
		}
		a, b, ok := cutSpace(line)
		if !ok {
			return nil, fmt.Errorf("tokenizer: vocab.bpe line %d: want two tokens separated by a space, got %q", lineNo, clip([]byte(line)))
		}
		ab, err1 := gpt2Bytes(a, inv)
		bb, err2 := gpt2Bytes(b, inv)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("tokenizer: vocab.bpe line %d: %w", lineNo, err)
		}
		ra, okA := ranks[ab]
		rb, okB := ranks[bb]
		if !okA || !okB {
			return nil, fmt.Errorf("tokenizer: vocab.bpe line %d: merges %q and %q before both exist", lineNo, a, b)
		}
		if _, dup := ranks[ab+bb]; dup {
			return nil, fmt.Errorf("tokenizer: vocab.bpe line %d: token %q made twice", lineNo, a+b)
		}
		ranks[ab+bb] = rank
		merges = append(merges, Merge{ra, rb, rank})
		rank++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: reading vocab.bpe: %w", err)
	}

	specialIDs, err := gpt2Specials(enc, ranks, special, inv, len(merges))
	if err != nil {
		return nil, err
	}
	t, err := New(ranks, specialIDs, GPT2Pattern)
	if err != nil {
		return nil, err
	}
	t.merges = merges
	return t, nil
}

// gpt2Specials checks encoder.json (enc) against the tokens that the bytes and merges make (ranks):
// each of those must be in enc with its rank as id, and every other entry of enc must be named in
// special. It returns the special tokens with their ids.
func gpt2Specials(enc map[string]int, ranks map[string]int, special []string, inv map[rune]byte, nMerges int) (map[string]int, error) {
	ids := make(map[string]int, len(special))
	for _, name := range special {
		id, ok := enc[name]
		if !ok {
			return nil, fmt.Errorf("tokenizer: special token %q is not in encoder.json", name)
		}
		if bs, err := gpt2Bytes(name, inv); err == nil {
			if _, merged := ranks[bs]; merged {
				return nil, fmt.Errorf("tokenizer: special token %q is an ordinary token of vocab.bpe", name)
			}
		}
		ids[name] = id
	}
	var stray []string // entries that are neither made by a merge nor named special
	for key, id := range enc {
		if _, ok := ids[key]; ok {
			continue
		}
		bs, err := gpt2Bytes(key, inv)
		r, ok := ranks[bs]
		if err != nil || !ok {
			stray = append(stray, key)
			continue
		}
		if r != id {
			return nil, fmt.Errorf("tokenizer: encoder.json gives %q id %d but vocab.bpe gives it rank %d", key, id, r)
		}
	}
	if len(stray) > 0 {
		// Report the lowest id: in a truncated vocab.bpe, the first merge that is missing.
		first := slices.MinFunc(stray, func(a, b string) int { return cmp.Compare(enc[a], enc[b]) })
		return nil, fmt.Errorf("tokenizer: %d entries of encoder.json, such as %q (id %d), are made by no merge of vocab.bpe "+
			"and are not named special: vocab.bpe (%d merges, for %d entries) is truncated or belongs to another vocabulary",
			len(stray), first, enc[first], nMerges, len(enc))
	}
	if n := len(enc) - len(ids); n != len(ranks) {
		return nil, fmt.Errorf("tokenizer: encoder.json lacks %d of the %d tokens vocab.bpe defines", len(ranks)-n, len(ranks))
	}
	return ids, nil
}

func cutSpace(line string) (a, b string, ok bool) {
	for i := 0; i < len(line); i++ {
		if line[i] == ' ' {
			a, b = line[:i], line[i+1:]
			return a, b, a != "" && b != "" && !containsByte(b, ' ')
		}
	}
	return "", "", false
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
