package tokenizer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goformer/goformer/tokenizer"
)

// New builds a tokenizer from ranks held in memory. Here every byte is its own token (its value is
// its rank) and "hi" is the one merged token.
func ExampleNew() {
	ranks := map[string]int{"hi": 256}
	for b := range 256 {
		ranks[string([]byte{byte(b)})] = b
	}
	enc, err := tokenizer.New(ranks, map[string]int{"<|end|>": 257}, tokenizer.GPT2Pattern)
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Encode("hi ho")) // pieces "hi" and " ho": 'h' 'o' and ' ' are bytes 104 111 32
	ids, _ := enc.EncodeSpecial("hi<|end|>", []string{"<|end|>"})
	fmt.Println(ids)
	// Output:
	// [256 32 104 111]
	// [256 257]
}

// ReadTiktoken reads a rank file as OpenAI publishes them, one "<base64 bytes> <rank>" line per
// token; the file has no room for the split pattern or the special tokens, so they are given.
func ExampleReadTiktoken() {
	var file strings.Builder
	for b := range 256 {
		fmt.Fprintf(&file, "%s %d\n", base64.StdEncoding.EncodeToString([]byte{byte(b)}), b)
	}
	fmt.Fprintf(&file, "%s 256\n", base64.StdEncoding.EncodeToString([]byte("hi")))

	enc, err := tokenizer.ReadTiktoken(strings.NewReader(file.String()), nil, tokenizer.CL100kPattern)
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Encode("hihi"), enc.VocabSize())
	// Output: [256 256] 257
}

// ReadGPT2 reads GPT-2's own files: encoder.json maps each token, written in GPT-2's printable
// alphabet for bytes, to its id, and vocab.bpe lists the merges in order. This builds a tiny
// vocabulary in that form: the 256 bytes, then "hi" and " hi" (" " is written "Ġ").
func ExampleReadGPT2() {
	// The alphabet: bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves and come first;
	// the other 68 bytes follow, written as U+0100 onwards.
	printable := func(b int) bool { return '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b }
	ids := map[string]int{}
	for b := range 256 {
		if printable(b) {
			ids[string(rune(b))] = len(ids)
		}
	}
	for b, next := 0, rune(0x100); b < 256; b++ {
		if !printable(b) {
			ids[string(next)] = len(ids)
			next++
		}
	}
	ids["hi"], ids["Ġhi"], ids["<|endoftext|>"] = 256, 257, 258
	encoderJSON, _ := json.Marshal(ids)
	vocabBPE := "#version: 0.2\nh i\nĠ hi\n"

	enc, err := tokenizer.ReadGPT2(strings.NewReader(string(encoderJSON)), strings.NewReader(vocabBPE), []string{"<|endoftext|>"})
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Encode("hi hi"), enc.Encode(" "), enc.Special()) // " " is 220, as in GPT-2
	// Output: [256 257] [220] map[<|endoftext|>:258]
}

// Save writes a tokenizer as two files, and Load reads them back.
func ExampleLoad() {
	text := strings.Repeat("low lower lowest newer newest ", 20)
	enc, err := tokenizer.Train(context.Background(), text, tokenizer.TrainConfig{VocabSize: 270, Special: []string{"<|endoftext|>"}})
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "tokenizer")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	prefix := filepath.Join(dir, "mytok")
	if err := enc.Save(prefix); err != nil { // mytok.tiktoken and mytok.json
		panic(err)
	}
	back, err := tokenizer.Load(prefix)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.VocabSize(), back.Special())
	fmt.Println(slices.Equal(enc.Encode("slower and newest"), back.Encode("slower and newest")))
	// Output:
	// 270 map[<|endoftext|>:269]
	// true
}
