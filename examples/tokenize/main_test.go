package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
)

// buildCLI compiles the command once per test run.
func buildCLI(t *testing.T) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skip("no go tool to build the command with:", err)
	}
	bin := filepath.Join(t.TempDir(), "tokenize")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

func run(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	return string(out), err
}

func TestCLI(t *testing.T) {
	bin := buildCLI(t)

	// "Hello, world!" is [15496 11 995] + [0] in GPT-2's vocabulary (as tiktoken encodes it).
	out, err := run(t, bin, "encode", "-enc", "gpt2", "Hello, world!")
	require.NoError(t, err)
	assert.Contains(t, out, "15496 11 995 0")

	out, err = run(t, bin, "decode", "-enc", "gpt2", "15496", "11", "995", "0")
	require.NoError(t, err)
	assert.Contains(t, out, "Hello, world!")

	// train a small vocabulary, save it, and use it
	dir := t.TempDir()
	shakespeare, err := os.ReadFile("../shakespeare/input.txt")
	require.NoError(t, err)
	corpus := filepath.Join(dir, "corpus.txt")
	require.NoError(t, os.WriteFile(corpus, shakespeare[:100_000], 0o644))
	prefix := filepath.Join(dir, "tok")
	out, err = run(t, bin, "train", "-f", corpus, "-vocab", "300", "-o", prefix)
	require.NoError(t, err, out)
	_, err = os.Stat(prefix + ".tiktoken")
	require.NoError(t, err)
	out, err = run(t, bin, "count", "-tok", prefix, "First Citizen: the cats sat")
	require.NoError(t, err)
	assert.NotEmpty(t, strings.TrimSpace(out))
	// too small a text for the vocabulary asked for is an error, not a crash
	tiny := filepath.Join(dir, "tiny.txt")
	require.NoError(t, os.WriteFile(tiny, []byte(strings.Repeat("ab ", 50)), 0o644))
	_, err = run(t, bin, "train", "-f", tiny, "-vocab", "300")
	assert.Error(t, err)

	// bad input is an error exit, not a crash
	_, err = run(t, bin, "decode", "-enc", "gpt2", "99999999")
	assert.Error(t, err)
	_, err = run(t, bin, "encode", "-enc", "nope", "x")
	assert.Error(t, err)
}

// TestCLIHuggingFace runs the commands with the tokenizer.json files of ../shared, whose vectors
// give the expected ids ("Hello, world!" in Qwen3's and in the SentencePiece-style vocabulary).
func TestCLIHuggingFace(t *testing.T) {
	root := fixture.Path(t, fixture.HFTokenizersEnv, fixture.HFTokenizersRel)
	bin := buildCLI(t)
	qwen, sp := filepath.Join(root, "qwen3"), filepath.Join(root, "sp-bpe-32k")

	out, err := run(t, bin, "encode", "-tokenizer", qwen, "Hello, world!")
	require.NoError(t, err)
	assert.Equal(t, "9707 11 1879 0", strings.TrimSpace(out))
	out, err = run(t, bin, "encode", "-tokenizer", filepath.Join(sp, "tokenizer.json"), "-special", "Hello, world!")
	require.NoError(t, err)
	assert.Equal(t, "1 22557 28725 1526 28808", strings.TrimSpace(out))
	out, err = run(t, bin, "count", "-tokenizer", sp, "Hello, world!")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "4 tokens"), out)
	out, err = run(t, bin, "decode", "-tokenizer", sp, "-skip-special", "1", "22557", "28725", "1526", "28808")
	require.NoError(t, err)
	assert.Equal(t, "Hello, world!\n", out)

	// The chat template's text for one user message, as transformers renders it.
	out, err = run(t, bin, "chat", "-tokenizer", qwen, "-gen", "user=Hi!")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n\n151644 "), out)

	_, err = run(t, bin, "encode", "-tokenizer", filepath.Join(root, "missing"), "x")
	assert.Error(t, err)
}
