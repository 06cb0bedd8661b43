// Package main is the serveload command.
//
// Command serveload measures examples/serve from the outside, as its clients see it: N
// concurrent streaming chat clients, each sending requests one after another through OpenAI's
// Go client, for each N of -clients. It prints, per N, the aggregate completion tokens per
// second, each client's tokens per second, and the median and 90th-percentile time to the first
// token. Start the server first, e.g. with random weights of a real model's shape:
//
//	go run ./examples/serve -random smollm2-135m &
//	go run ./bench/serveload -url http://127.0.0.1:8080/v1/ -clients 1,8,32 -max-tokens 64
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/v1/", "the server's base URL")
	clients := flag.String("clients", "1,8,32", "concurrent clients, one run per number")
	requests := flag.Int("requests", 3, "requests per client")
	maxTokens := flag.Int("max-tokens", 64, "tokens per answer (the random models never stop early)")
	prompt := flag.String("prompt", "Tell me a story about a lighthouse keeper.", "the user message")
	flag.Parse()
	client := openai.NewClient(option.WithBaseURL(*url), option.WithMaxRetries(0))
	fmt.Printf("%-8s %12s %16s %12s %12s %8s\n", "clients", "tok/s", "tok/s per client", "TTFT p50", "TTFT p90", "errors")
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "serveload: bad -clients entry", f)
			os.Exit(2)
		}
		r := measure(client, n, *requests, *maxTokens, *prompt)
		fmt.Printf("%-8d %12.1f %16.1f %12s %12s %8d\n", n, r.tokPerSec, r.tokPerSec/float64(n),
			r.ttft(0.5).Round(time.Millisecond), r.ttft(0.9).Round(time.Millisecond), r.errors)
	}
}

type result struct {
	tokPerSec float64
	ttfts     []time.Duration
	errors    int
}

func (r result) ttft(q float64) time.Duration {
	if len(r.ttfts) == 0 {
		return 0
	}
	s := slices.Clone(r.ttfts)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func measure(client openai.Client, n, requests, maxTokens int, prompt string) result {
	var mu sync.Mutex
	var res result
	tokens := 0
	start := time.Now()
	var wg sync.WaitGroup
	for c := range n {
		wg.Go(func() {
			for i := range requests {
				p := openai.ChatCompletionNewParams{
					Model:         "any",
					Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage(fmt.Sprintf("%s (%d.%d)", prompt, c, i))},
					MaxTokens:     openai.Int(int64(maxTokens)),
					Seed:          openai.Int(int64(c*1000 + i)),
					StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
				}
				t0 := time.Now()
				var first time.Duration
				got := 0
				stream := client.Chat.Completions.NewStreaming(context.Background(), p)
				for stream.Next() {
					ch := stream.Current()
					if first == 0 && len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" {
						first = time.Since(t0)
					}
					if ch.Usage.CompletionTokens > 0 {
						got = int(ch.Usage.CompletionTokens)
					}
				}
				mu.Lock()
				if stream.Err() != nil {
					res.errors++
				} else {
					tokens += got
					res.ttfts = append(res.ttfts, first)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.tokPerSec = float64(tokens) / time.Since(start).Seconds()
	return res
}
