package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tensor"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

// fixture finds ../shared/testdata/hf-gpt2-tiny (or $GOFORMER_HF_FIXTURE), skipping without it.
func fixture(t *testing.T) string {
	if dir := os.Getenv("GOFORMER_HF_FIXTURE"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	for dir := wd; filepath.Dir(dir) != dir; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			fix := filepath.Join(dir, "..", "shared", "testdata", "hf-gpt2-tiny")
			if _, err := os.Stat(filepath.Join(fix, "reference.safetensors")); err != nil {
				t.Skipf("Hugging Face GPT-2 fixture not found at %s; set GOFORMER_HF_FIXTURE", fix)
			}
			return fix
		}
	}
	t.Skip("no go.mod above the working directory; set GOFORMER_HF_FIXTURE")
	return ""
}

// TestGreedyPrintsReferenceText: greedy decoding of the fixture's prompt prints the text of
// transformers' greedy output.
func TestGreedyPrintsReferenceText(t *testing.T) {
	dir := fixture(t)
	ref, err := tensor.OpenSafetensors(filepath.Join(dir, "reference.safetensors"))
	require.NoError(t, err)
	defer ref.Close()
	prompt, _, err := ref.Int64("greedy.prompt")
	require.NoError(t, err)
	want64, _, err := ref.Int64("greedy.output")
	require.NoError(t, err)
	var ids []string
	for _, id := range prompt {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	want := make([]int, len(want64))
	for i, id := range want64 {
		want[i] = int(id)
	}
	enc, err := gpt2.Encoding()
	require.NoError(t, err)
	wantText, err := enc.Decode(want)
	require.NoError(t, err)

	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"-model", dir, "-ids", strings.Join(ids, ","),
		"-n", strconv.Itoa(len(want) - len(prompt)), "-temperature", "0", "-no-stop"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.Equal(t, wantText+"\n", out.String())
}

func TestTextPrompt(t *testing.T) {
	dir := fixture(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-model", dir, "-prompt", "Humpty Dumpty sat on a", "-n", "40",
		"-temperature", "0.8", "-top-k", "40", "-seed", "1"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.True(t, strings.HasPrefix(out.String(), "Humpty Dumpty sat on a"), out.String())
	assert.Greater(t, len(out.String()), len("Humpty Dumpty sat on a\n"))
}

func TestErrors(t *testing.T) {
	dir := fixture(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", filepath.Join(t.TempDir(), "nope"), "-prompt", "hi"}, "config.json"},
		{[]string{"-model", t.TempDir(), "-prompt", "hi"}, "config.json"},
		{[]string{"-prompt", "hi"}, "-model"},
		{[]string{"-model", dir}, "exactly one"},
		{[]string{"-model", dir, "-prompt", "a", "-ids", "1"}, "exactly one"},
		{[]string{"-model", dir, "-ids", "1,x"}, `"x"`},
		{[]string{"-model", dir, "-ids", "1,99999"}, "99999"},
		{[]string{"-model", dir, "-prompt", "hi", "-temperature", "-1"}, "Temperature"},
		{[]string{"-model", dir, "-prompt", "hi", "extra"}, "unexpected"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if assert.Error(t, err, "%v", tc.args) {
			assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
		}
	}
}
