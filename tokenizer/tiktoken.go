package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxLine bounds one line of a rank or merge file; real ones are well under 1 KB.
const maxLine = 1 << 16

// ReadTiktoken builds a BPE from a tiktoken rank file, the format OpenAI publishes its encodings in
// (lines "<base64 token bytes> <rank>", as load_tiktoken_bpe reads them). The file holds only the
// mergeable tokens, so the special tokens (name -> id) and the split pattern are given, as they are
// to tiktoken's Encoding. The encodings in tokenizer/gpt2 and tokenizer/cl100k are built this way.
func ReadTiktoken(r io.Reader, special map[string]int, pattern string) (*BPE, error) {
	ranks, err := readTiktoken(r)
	if err != nil {
		return nil, err
	}
	return New(ranks, special, pattern)
}

func readTiktoken(r io.Reader) (map[string]int, error) {
	ranks := make(map[string]int)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var tok []byte
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("tokenizer: rank file line %d: want \"<base64> <rank>\", got %q", lineNo, clip(line))
		}
		b64, rankText := line[:sp], line[sp+1:]
		tok = tok[:0]
		tok, err := base64.StdEncoding.AppendDecode(tok, b64)
		if err != nil || len(tok) == 0 {
			return nil, fmt.Errorf("tokenizer: rank file line %d: bad token %q", lineNo, clip(b64))
		}
		rank, err := strconv.Atoi(string(rankText))
		if err != nil || rank < 0 {
			return nil, fmt.Errorf("tokenizer: rank file line %d: bad rank %q", lineNo, clip(rankText))
		}
		if _, dup := ranks[string(tok)]; dup {
			return nil, fmt.Errorf("tokenizer: rank file line %d: token %q listed twice", lineNo, tok)
		}
		ranks[string(tok)] = rank
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: reading rank file: %w", err)
	}
	if len(ranks) == 0 {
		return nil, errors.New("tokenizer: empty rank file")
	}
	return ranks, nil
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// WriteTiktoken writes the mergeable tokens as a tiktoken rank file, in rank order: what ReadTiktoken
// reads. The special tokens and the pattern are not part of the format (Save keeps them too).
func (t *BPE) WriteTiktoken(w io.Writer) error {
	bw := bufio.NewWriter(w)
	var line []byte
	for id, tok := range t.tokens {
		if !t.used[id] {
			continue
		}
		if r, ok := t.ranks[tok]; !ok || int(r) != id {
			continue
		}
		line = base64.StdEncoding.AppendEncode(line[:0], []byte(tok))
		line = append(line, ' ')
		line = strconv.AppendInt(line, int64(id), 10)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
