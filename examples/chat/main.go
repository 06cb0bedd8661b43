// Command chat talks with a model in the terminal: each answer streams as it is generated.
//
//	go run ./examples/chat -model DIR
//	go run ./examples/chat -model DIR -system "You are terse." -temperature 0.7 -top-p 0.9 -weights int8
//
// The conversation goes through the model's chat template (tokenizer_config.json; a directory
// without one, a GPT-2, gets a plain "role: content" template) and each answer ends at one of
// the model's end-of-turn tokens or after -max-new tokens. When the conversation outgrows the
// model's context, the oldest turns are dropped, and chat says so. Ctrl-C stops the current
// answer; a second Ctrl-C (or Ctrl-D at the prompt) exits.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/goformer/goformer/examples/internal/modeldir"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/hf"
)

func main() {
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt)
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, interrupts); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

type options struct {
	dir, system string
	sampling    model.Sampling
	weights     model.WeightFormat
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{weights: model.Float32}
	fs.StringVar(&o.dir, "model", "", "model directory (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)")
	fs.StringVar(&o.system, "system", "", "a system message that opens the conversation")
	temp := fs.Float64("temperature", 0.7, "sampling temperature; 0 picks the most likely token")
	topP := fs.Float64("top-p", 0.9, "nucleus sampling: the smallest set of tokens with at least this mass; 1 for all")
	fs.IntVar(&o.sampling.MaxNew, "max-new", 256, "most tokens in one answer")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (the same seed and conversation give the same answers)")
	fs.Var(&o.weights, "weights", "weight format for generation: float32, bf16 or int8")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.dir == "":
		return nil, errors.New("-model DIR is required")
	case o.sampling.MaxNew < 1:
		return nil, fmt.Errorf("-max-new must be positive, got %d", o.sampling.MaxNew)
	case !(*temp >= 0 && *temp <= 100):
		return nil, fmt.Errorf("-temperature must be in [0, 100], got %v", *temp)
	case !(*topP > 0 && *topP <= 1):
		return nil, fmt.Errorf("-top-p must be in (0, 1], got %v", *topP)
	}
	o.sampling.Temperature, o.sampling.TopP, o.sampling.Seed = float32(*temp), float32(*topP), *seed
	return o, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, interrupts <-chan os.Signal) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	lm, err := modeldir.Open(o.dir, o.weights)
	if err != nil {
		return err
	}
	c := &conversation{lm: lm, o: o, out: stdout}
	if o.system != "" {
		c.history = append(c.history, hf.Message{Role: "system", Content: o.system})
	}
	fmt.Fprintf(stdout, "chatting with %s (context %d tokens); Ctrl-C stops an answer, Ctrl-D or a second Ctrl-C exits\n",
		lm.Name, lm.GPT.Config.BlockSize)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		fmt.Fprint(stdout, "> ")
		var line string
		select {
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(stdout)
				return nil
			}
			line = l
		case <-interrupts:
			fmt.Fprintln(stdout)
			return nil
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := c.answer(line, interrupts); err != nil {
			return err
		}
	}
}

// conversation is the history and how to continue it.
type conversation struct {
	lm      *modeldir.Model
	o       *options
	out     io.Writer
	history []hf.Message
	turns   int // answers given, each seeding its own sampler
}

// prompt renders the history with a new user message, dropping the oldest turns (never the
// system message) until it leaves room for an answer in the context.
func (c *conversation) prompt(user string) ([]int, error) {
	msgs := append(c.history, hf.Message{Role: "user", Content: user})
	block := c.lm.GPT.Config.BlockSize
	room := min(c.o.sampling.MaxNew, block/2) // at least this much is kept free for the answer
	dropped := 0
	for {
		text, err := c.lm.Template.Render(msgs, true)
		if err != nil {
			return nil, err
		}
		ids := c.lm.Text.Encode(text, false)
		if len(ids)+room <= block {
			if dropped > 0 {
				fmt.Fprintf(c.out, "(dropped the %d oldest messages to fit the context of %d tokens)\n", dropped, block)
				c.history = msgs[:len(msgs)-1]
			}
			return ids, nil
		}
		first := 0
		if len(msgs) > 0 && msgs[0].Role == "system" {
			first = 1
		}
		if len(msgs)-first <= 1 {
			return nil, fmt.Errorf("the message is %d tokens; with room for an answer, the context of %d tokens cannot hold it", len(ids), block)
		}
		msgs = append(msgs[:first:first], msgs[first+1:]...)
		dropped++
	}
}

// answer streams the model's answer to user, until it ends or an interrupt stops it.
func (c *conversation) answer(user string, interrupts <-chan os.Signal) error {
	ids, err := c.prompt(user)
	if err != nil {
		fmt.Fprintln(c.out, "(", err, ")")
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		select {
		case <-interrupts:
			cancel()
		case <-stopped:
		}
	}()
	s := c.o.sampling
	s.Seed += uint64(c.turns)
	s.Stop = c.lm.Stop
	s.MaxNew = min(s.MaxNew, c.lm.GPT.Config.BlockSize-len(ids))
	c.turns++
	stream := c.lm.Text.Stream()
	var reply strings.Builder
	for tok, err := range c.lm.GPT.Generate(ctx, ids, s) {
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprint(c.out, " [stopped]")
				break
			}
			close(stopped)
			return err
		}
		piece, err := stream.Add(tok)
		if err != nil {
			close(stopped)
			return err
		}
		reply.WriteString(piece)
		fmt.Fprint(c.out, piece)
	}
	close(stopped)
	tail := stream.Flush()
	reply.WriteString(tail)
	fmt.Fprintln(c.out, tail)
	c.history = append(c.history, hf.Message{Role: "user", Content: user}, hf.Message{Role: "assistant", Content: reply.String()})
	return nil
}
