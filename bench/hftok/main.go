// Package main is the hftok command.
//
// Command hftok writes the texts that BenchmarkHFEncode encodes besides tiny Shakespeare (mixed-script
// prose and adversarial runs, from internal/benchtext) to a folder, so that hf_tokenizers.mjs can
// give Hugging Face's tokenizers the same bytes.
//
//	go run ./bench/hftok /tmp/hftexts
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/goformer/goformer/internal/benchtext"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hftok DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	files := map[string]string{"mixed": benchtext.Mixed(1 << 20)}
	for name, text := range benchtext.Adversarial(1 << 20) {
		files[name] = text
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
