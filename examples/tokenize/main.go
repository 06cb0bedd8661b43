// Command tokenize encodes, decodes and counts tokens with a built-in encoding (gpt2, cl100k_base),
// a saved tokenizer or a Hugging Face tokenizer.json, renders chat templates, and trains a byte-level
// BPE tokenizer from a text file.
//
//	go run ./examples/tokenize encode -enc cl100k_base "Hello, world!"
//	go run ./examples/tokenize encode -tokenizer ../shared/testdata/hf-tokenizers/qwen3 "Hello, world!"
//	go run ./examples/tokenize count -tokenizer path/to/tokenizer.json -f ../shared/data/tinyshakespeare.txt
//	go run ./examples/tokenize chat -tokenizer ../shared/testdata/hf-tokenizers/qwen3 -gen system="Be brief." user="Hi!"
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
	"github.com/goformer/goformer/tokenizer/hf"
)

const usage = `usage:
  tokenize encode [-enc NAME | -tok PREFIX | -tokenizer PATH] [-special] [-f FILE | TEXT...]
  tokenize decode [-enc NAME | -tok PREFIX | -tokenizer PATH] [-skip-special] ID...
  tokenize count  [-enc NAME | -tok PREFIX | -tokenizer PATH] [-special] [-f FILE | TEXT...]
  tokenize chat   -tokenizer DIR [-gen] ROLE=CONTENT...
  tokenize train  -f FILE -vocab N [-pattern gpt2|cl100k|REGEXP] [-special TOK,...] [-o PREFIX]
NAME is gpt2 (r50k_base) or cl100k_base; PREFIX names the PREFIX.tiktoken and PREFIX.json that train -o writes;
PATH is a Hugging Face tokenizer.json or a model directory holding one (and its tokenizer_config.json).
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
	case "chat":
		err = chat(args)
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
type tokFlags struct{ enc, tok, hf *string }

func addTokFlags(fs *flag.FlagSet) tokFlags {
	return tokFlags{
		enc: fs.String("enc", "gpt2", "built-in encoding: gpt2 (r50k_base) or cl100k_base"),
		tok: fs.String("tok", "", "load a saved tokenizer (PREFIX.tiktoken + PREFIX.json) instead"),
		hf:  fs.String("tokenizer", "", "load a Hugging Face tokenizer.json (or a model directory holding one) instead"),
	}
}

// codec is what the commands need of either kind of tokenizer.
type codec struct {
	bpe *tokenizer.BPE
	hf  *hf.Tokenizer
}

// encode returns the ids of text. special means: for a BPE, recognise its special tokens (else they
// are plain text); for a tokenizer.json, add the post-processor's tokens (<s> ...), as
// transformers' add_special_tokens does (its added tokens are recognised either way).
func (c codec) encode(text string, special bool) ([]int, error) {
	if c.hf != nil {
		return c.hf.EncodeWith(text, special), nil
	}
	if special {
		return c.bpe.EncodeSpecial(text, c.bpe.SpecialNames())
	}
	return c.bpe.Encode(text), nil
}

func (c codec) decode(ids []int, skipSpecial bool) (string, error) {
	if c.hf != nil {
		return c.hf.DecodeWith(ids, skipSpecial)
	}
	return c.bpe.Decode(ids)
}

func (f tokFlags) load() (codec, error) {
	if *f.hf != "" {
		t, err := hf.Load(*f.hf)
		return codec{hf: t}, err
	}
	if *f.tok != "" {
		t, err := tokenizer.Load(*f.tok)
		return codec{bpe: t}, err
	}
	var t *tokenizer.BPE
	var err error
	switch *f.enc {
	case "gpt2", "r50k_base":
		t, err = gpt2.Encoding()
	case "cl100k_base", "cl100k":
		t, err = cl100k.Encoding()
	default:
		return codec{}, fmt.Errorf("unknown encoding %q (want gpt2 or cl100k_base)", *f.enc)
	}
	return codec{bpe: t}, err
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
	special := fs.Bool("special", false, "BPE: recognise its special tokens (else plain text); tokenizer.json: add the post-processor's tokens")
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
	ids, err := enc.encode(text, *special)
	if err != nil {
		return err
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
	skip := fs.Bool("skip-special", false, "tokenizer.json: leave out special tokens")
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
	text, err := enc.decode(ids, *skip)
	if err != nil {
		return err
	}
	fmt.Print(text)
	if !strings.HasSuffix(text, "\n") {
		fmt.Println()
	}
	return nil
}

// chat renders a conversation with the chat template of a model directory and prints the text
// and its ids.
func chat(args []string) error {
	fs := flag.NewFlagSet("chat", flag.ExitOnError)
	dir := fs.String("tokenizer", "", "a model directory with tokenizer.json and tokenizer_config.json")
	gen := fs.Bool("gen", false, "end with the prompt for the assistant's reply (add_generation_prompt)")
	_ = fs.Parse(args)
	if *dir == "" {
		return errors.New("chat needs -tokenizer DIR")
	}
	t, err := hf.Load(*dir)
	if err != nil {
		return err
	}
	tmpl, err := t.ChatTemplate()
	if err != nil {
		return fmt.Errorf("%s: %w", *dir, err)
	}
	var msgs []hf.Message
	for _, a := range fs.Args() {
		role, content, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("message %q is not ROLE=CONTENT", a)
		}
		msgs = append(msgs, hf.Message{Role: role, Content: content})
	}
	text, err := tmpl.Render(msgs, *gen)
	if err != nil {
		return err
	}
	// The template writes the special tokens itself, so the post-processor adds none.
	ids := t.EncodeWith(text, false)
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.Itoa(id)
	}
	fmt.Printf("%s\n%s\n", text, strings.Join(strs, " "))
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
