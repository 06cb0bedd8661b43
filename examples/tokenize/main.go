// Command tokenize encodes, decodes and counts tokens with a built-in encoding (gpt2, cl100k_base)
// or a saved tokenizer, and trains a byte-level BPE tokenizer from a text file.
//
//	go run ./examples/tokenize encode -enc cl100k_base "Hello, world!"
//	go run ./examples/tokenize decode -enc gpt2 15496 11 995 0
//	go run ./examples/tokenize count -enc gpt2 -f ../shared/data/tinyshakespeare.txt
//	go run ./examples/tokenize train -f ../shared/data/tinyshakespeare.txt -vocab 4096 -o /tmp/shakes
//	go run ./examples/tokenize encode -tok /tmp/shakes "To be, or not to be"
//
// Text comes from the arguments, from -f FILE, or else from standard input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/cl100k"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

const usage = `usage:
  tokenize encode [-enc NAME | -tok PREFIX] [-special] [-f FILE | TEXT...]
  tokenize decode [-enc NAME | -tok PREFIX] ID...
  tokenize count  [-enc NAME | -tok PREFIX] [-f FILE | TEXT...]
  tokenize train  -f FILE -vocab N [-pattern gpt2|cl100k|REGEXP] [-special TOK,...] [-o PREFIX]
NAME is gpt2 (r50k_base) or cl100k_base; PREFIX names the PREFIX.tiktoken and PREFIX.json that train -o writes.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "encode", "count":
		err = encode(cmd, args)
	case "decode":
		err = decode(args)
	case "train":
		err = train(ctx, args)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenize:", err)
		os.Exit(1)
	}
}

// tokFlags are the flags that choose a tokenizer.
type tokFlags struct{ enc, tok *string }

func addTokFlags(fs *flag.FlagSet) tokFlags {
	return tokFlags{
		enc: fs.String("enc", "gpt2", "built-in encoding: gpt2 (r50k_base) or cl100k_base"),
		tok: fs.String("tok", "", "load a saved tokenizer (PREFIX.tiktoken + PREFIX.json) instead"),
	}
}

func (f tokFlags) load() (*tokenizer.BPE, error) {
	if *f.tok != "" {
		return tokenizer.Load(*f.tok)
	}
	switch *f.enc {
	case "gpt2", "r50k_base":
		return gpt2.Encoding()
	case "cl100k_base", "cl100k":
		return cl100k.Encoding()
	}
	return nil, fmt.Errorf("unknown encoding %q (want gpt2 or cl100k_base)", *f.enc)
}

// input returns the text from -f, the arguments, or standard input.
func input(file string, args []string) (string, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		return string(b), err
	case len(args) > 0:
		return strings.Join(args, " "), nil
	}
	b, err := io.ReadAll(os.Stdin)
	return string(b), err
}

func encode(cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	tf := addTokFlags(fs)
	file := fs.String("f", "", "read the text from this file")
	special := fs.Bool("special", false, "recognise the tokenizer's special tokens (else they are plain text)")
	_ = fs.Parse(args)
	enc, err := tf.load()
	if err != nil {
		return err
	}
	text, err := input(*file, fs.Args())
	if err != nil {
		return err
	}
	start := time.Now()
	var ids []int
	if *special {
		if ids, err = enc.EncodeSpecial(text, enc.SpecialNames()); err != nil {
			return err
		}
	} else {
		ids = enc.Encode(text)
	}
	elapsed := time.Since(start)
	if cmd == "count" {
		fmt.Printf("%d tokens, %d bytes (%.2f bytes/token), encoded in %v (%.1f MB/s)\n",
			len(ids), len(text), float64(len(text))/max(1, float64(len(ids))), elapsed.Round(time.Microsecond),
			float64(len(text))/1e6/elapsed.Seconds())
		return nil
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.Itoa(id)
	}
	fmt.Println(strings.Join(strs, " "))
	return nil
}

func decode(args []string) error {
	fs := flag.NewFlagSet("decode", flag.ExitOnError)
	tf := addTokFlags(fs)
	_ = fs.Parse(args)
	enc, err := tf.load()
	if err != nil {
		return err
	}
	fields := fs.Args()
	if len(fields) == 0 {
		text, err := input("", nil)
		if err != nil {
			return err
		}
		fields = strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '[' || r == ']' })
	}
	ids := make([]int, 0, len(fields))
	for _, f := range fields {
		for _, part := range strings.FieldsFunc(f, func(r rune) bool { return r == ',' || r == '[' || r == ']' }) {
			id, err := strconv.Atoi(part)
			if err != nil {
				return fmt.Errorf("bad token id %q", part)
			}
			ids = append(ids, id)
		}
	}
	text, err := enc.Decode(ids)
	if err != nil {
		return err
	}
	fmt.Print(text)
	if !strings.HasSuffix(text, "\n") {
		fmt.Println()
	}
	return nil
}

func train(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("train", flag.ExitOnError)
	file := fs.String("f", "", "training text (required)")
	vocab := fs.Int("vocab", 4096, "vocabulary size, including the 256 bytes and the special tokens")
	pattern := fs.String("pattern", "cl100k", "split pattern: gpt2, cl100k, or a Go regexp")
	special := fs.String("special", "<|endoftext|>", "comma-separated special tokens (empty for none)")
	out := fs.String("o", "", "save the tokenizer as PREFIX.tiktoken and PREFIX.json")
	show := fs.Int("show", 10, "print this many of the first and last learned merges")
	_ = fs.Parse(args)
	if *file == "" {
		return errors.New("train needs -f FILE")
	}
	switch *pattern {
	case "gpt2":
		*pattern = tokenizer.GPT2Pattern
	case "cl100k":
		*pattern = tokenizer.CL100kPattern
	}
	var specials []string
	if *special != "" {
		specials = strings.Split(*special, ",")
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	enc, err := tokenizer.TrainReader(ctx, f, tokenizer.TrainConfig{VocabSize: *vocab, Pattern: *pattern, Special: specials})
	if err != nil {
		return err
	}
	fmt.Printf("trained a vocabulary of %d (%d merges) on %s in %v\n", enc.VocabSize(), len(enc.Merges()), *file, time.Since(start).Round(time.Millisecond))
	merges := enc.Merges()
	for i, m := range merges {
		if i == *show && len(merges) > 2**show {
			fmt.Println("  ...")
		}
		if i >= *show && i < len(merges)-*show {
			continue
		}
		l, _ := enc.TokenBytes(m.Left)
		r, _ := enc.TokenBytes(m.Right)
		fmt.Printf("  merge %4d: %-12q + %-12q -> %d\n", i, l, r, m.Result)
	}
	if text, err := os.ReadFile(*file); err == nil {
		n := enc.Count(string(text))
		fmt.Printf("the file encodes as %d tokens (%.2f bytes/token)\n", n, float64(len(text))/max(1, float64(n)))
	}
	if *out != "" {
		if err := enc.Save(*out); err != nil {
			return err
		}
		fmt.Printf("saved %s.tiktoken and %s.json\n", *out, *out)
	}
	return nil
}
