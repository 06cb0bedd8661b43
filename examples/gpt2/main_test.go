package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/fixture"
	"github.com/goformer/goformer/safetensors"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

// TestGreedyPrintsReferenceText: greedy decoding of the fixture's prompt prints the text of
// transformers' greedy output.
func TestGreedyPrintsReferenceText(t *testing.T) {
	dir := fixture.HFDir(t)
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
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

// Greedy decoding from the compact views prints the same text on the fixture (whose greedy
// choices have margins well above the rounding; model's tests measure it).
func TestCompactWeights(t *testing.T) {
	dir := fixture.HFDir(t)
	args := []string{"-model", dir, "-prompt", "Humpty Dumpty sat on a", "-n", "10", "-temperature", "0", "-no-stop"}
	var want, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), args, &want, &errOut), errOut.String())
	for _, w := range []string{"bf16", "int8"} {
		var out bytes.Buffer
		errOut.Reset()
		require.NoError(t, run(context.Background(), append(args, "-weights", w, "-stats"), &out, &errOut), errOut.String())
		assert.Equal(t, want.String(), out.String(), w)
		assert.Contains(t, errOut.String(), "weights converted to "+w)
	}
}

func TestTextPrompt(t *testing.T) {
	dir := fixture.HFDir(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-model", dir, "-prompt", "Humpty Dumpty sat on a", "-n", "40",
		"-temperature", "0.8", "-top-k", "40", "-seed", "1"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.True(t, strings.HasPrefix(out.String(), "Humpty Dumpty sat on a"), out.String())
	assert.Greater(t, len(out.String()), len("Humpty Dumpty sat on a\n"))
}

func TestErrors(t *testing.T) {
	dir := fixture.HFDir(t)
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
		{[]string{"-model", dir, "-prompt", "hi", "-weights", "int4"}, "int4"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if assert.Error(t, err, "%v", tc.args) {
			assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
		}
	}
}
