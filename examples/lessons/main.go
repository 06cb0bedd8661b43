// Command lessons runs the story of how a GPT works, one small step at a time, for a reader with
// school maths: each step prints what it shows in plain words, then the numbers that show it,
// and draws its pictures as PNG files.
//
//	go run ./examples/lessons all                 # steps 1 to 12, in order
//	go run ./examples/lessons numbers             # one step
//	go run ./examples/lessons guess -text rhyme.txt -prompt "Twinkle, twinkle"
//	go run ./examples/lessons gpt -ckpt out-shakespeare
//	go run ./examples/lessons all -out pictures   # where the PNG files go (default out-lessons)
//
// The steps:
//
//	 1 numbers     a tiny network tells a leaf from a flower from four numbers, then learns
//	 2 letters     text becomes numbers: a vocabulary of characters
//	 3 guess       training is a guessing game: guess the next character of "Humpty Dumpty"
//	 4 embeddings  each token becomes a vector; similar tokens get similar vectors
//	 5 subwords    a byte-pair encoding learns pieces of words
//	 6 attention   self-attention weighs every earlier token
//	 7 residual    why deep stacks need residual connections (and layer norm, dropout)
//	 8 heads       the heads of multi-head attention look at different things
//	 9 positions   without positions, "dog bites man" and "man bites dog" look the same
//	10 gpt         all of it together: train a GPT on Shakespeare (or load one) and sample
//	11 transformer the encoder–decoder: translate dates, and see where cross-attention looks
//	12 llama       after GPT-2: RMSNorm, rotary positions, SwiGLU and grouped KV heads, on small numbers
//
// Each step says which package and file hold the code it uses. The steps that train a GPT on
// Shakespeare (4, 8 and 10; 8 reuses 4's model in an all run) need 15 to 20 seconds of CPU time
// each on the development machine, step 11 (an encoder–decoder, on examples/translate's task)
// about 10; the others need a second or two, most of it for pictures.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

// input.txt is tiny Shakespeare (1,115,394 bytes), the same file as examples/shakespeare's (git
// stores it once): the real text of steps 4, 5, 8 and 10.
//
//go:embed input.txt
var shakespeare string

// lesson is one step of the story.
type lesson struct {
	name  string
	title string
	run   func(ctx context.Context, e *env) error
}

// lessons are the steps, in the order of the story.
var lessons = []lesson{
	{"numbers", "A network only handles numbers", numbersLesson},
	{"letters", "Text becomes numbers", lettersLesson},
	{"guess", "Training is a guessing game", guessLesson},
	{"embeddings", "Each token becomes a vector", embeddingsLesson},
	{"subwords", "Subword tokens", subwordsLesson},
	{"attention", "Self-attention", attentionLesson},
	{"residual", "Residual connections, layer norm and dropout", residualLesson},
	{"heads", "Multi-head attention", headsLesson},
	{"positions", "Positional encoding", positionsLesson},
	{"gpt", "GPT: all of it together", gptLesson},
	{"transformer", "The encoder–decoder Transformer and cross-attention", transformerLesson},
	{"llama", "After GPT-2: what changed", llamaLesson},
}

// env is what a step needs: where to print and draw, the command-line options, and what
// earlier steps of the same run trained.
type env struct {
	w      io.Writer
	out    string // directory for pictures; "" draws none
	text   string // guess: a file to train on instead of the rhyme
	prompt string // guess: the start to complete
	ckpt   string // gpt: a checkpoint directory of examples/shakespeare to load instead of training
	seed   uint64

	// tiny makes every step train smaller models for fewer steps: the tests set it. The
	// claims each step prints still hold.
	tiny bool
	// pictures lists the PNG files written, in order.
	pictures []string
	// trained keeps the models trained in this run, so that a later step can reuse one.
	trained map[string]any
}

// blankWriter remembers whether what was written so far ends with a blank line.
type blankWriter struct {
	w    io.Writer
	tail [2]byte
}

func (b *blankWriter) Write(p []byte) (int, error) {
	if n := len(p); n >= 2 {
		b.tail = [2]byte{p[n-2], p[n-1]}
	} else if n == 1 {
		b.tail = [2]byte{b.tail[1], p[0]}
	}
	return b.w.Write(p)
}

// endsBlank reports whether the output ends with an empty line.
func (b *blankWriter) endsBlank() bool { return b.tail == [2]byte{'\n', '\n'} }

// printf prints to the step's output.
func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.w, format, args...) }

// para prints a paragraph of explanation, wrapped at 100 columns, and a blank line.
func (e *env) para(text string) {
	e.printf("%s\n\n", wrap(text, 100))
}

// picture returns the path for a picture called name in the output directory, or "" when
// pictures are off, and records it.
func (e *env) picture(name string) string {
	if e.out == "" {
		return ""
	}
	p := filepath.Join(e.out, name)
	e.pictures = append(e.pictures, p)
	return p
}

// drew tells the reader where a picture went.
func (e *env) drew(path, what string) {
	if path != "" {
		e.printf("picture: %s (%s)\n", path, what)
	}
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(text) {
		n := len([]rune(word))
		if col > 0 && col+1+n > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "lessons:", err)
		os.Exit(1)
	}
}

// usage prints the list of steps and the flags.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: lessons STEP [flags]   (STEP is a step's name or number, or all)")
	fmt.Fprintln(w, "\nsteps:")
	for i, l := range lessons {
		fmt.Fprintf(w, "  %2d %-11s %s\n", i+1, l.name, l.title)
	}
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parse reads the command line: a step (name, number or all) and flags, in any order.
func parse(args []string, stderr io.Writer) (*env, []lesson, error) {
	e := &env{trained: map[string]any{}}
	fs := flag.NewFlagSet("lessons", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.out, "out", "out-lessons", "directory for the pictures (PNG); empty: draw none")
	fs.StringVar(&e.text, "text", "", "guess: train on this UTF-8 text file (a short rhyme, say) instead of Humpty Dumpty")
	fs.StringVar(&e.prompt, "prompt", "", "guess: the start to complete, taken from anywhere in the text (default: its first three words)")
	fs.StringVar(&e.ckpt, "ckpt", "", "gpt: load the checkpoint that examples/shakespeare wrote in this directory instead of training")
	fs.Uint64Var(&e.seed, "seed", 1337, "seed for the weights, the batches and the sampling")
	var steps []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage(stderr, fs)
			} else {
				fmt.Fprintln(stderr, err)
				fmt.Fprintln(stderr, "(lessons -h lists the steps and flags)")
			}
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		steps = append(steps, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(steps) == 0 {
		usage(stderr, fs)
		return nil, nil, errors.New("no step given")
	}
	var todo []lesson
	for _, s := range steps {
		if s == "all" {
			todo = append(todo, lessons...)
			continue
		}
		found := false
		for i, l := range lessons {
			if s == l.name || s == fmt.Sprint(i+1) {
				todo, found = append(todo, l), true
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("no step %q (lessons -h lists them)", s)
		}
	}
	return e, todo, nil
}

// run runs the steps the command line names, timing each.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e, todo, err := parse(args, stderr)
	if err != nil {
		return err
	}
	e.w = &blankWriter{w: stdout}
	return runLessons(ctx, e, todo)
}

// runLessons runs steps one after another, each under a heading, and prints how long each took.
func runLessons(ctx context.Context, e *env, todo []lesson) error {
	total := time.Now()
	for _, l := range todo {
		n := 0
		for i := range lessons {
			if lessons[i].name == l.name {
				n = i + 1
			}
		}
		heading := fmt.Sprintf("Step %d (%s): %s", n, l.name, l.title)
		e.printf("%s\n%s\n\n", heading, strings.Repeat("=", len([]rune(heading))))
		start := time.Now()
		if err := l.run(ctx, e); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		if bw, ok := e.w.(*blankWriter); !ok || !bw.endsBlank() {
			e.printf("\n")
		}
		e.printf("(step %d took %.1f s)\n\n", n, time.Since(start).Seconds())
	}
	if len(todo) > 1 {
		e.printf("(%d steps took %.1f s)\n", len(todo), time.Since(total).Seconds())
	}
	return nil
}
