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
