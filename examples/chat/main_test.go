package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/examples/internal/modeldir"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tokenizer/hf"
)

func saveTiny(t *testing.T, block int) string {
	t.Helper()
	m, err := model.New(model.Config{VocabSize: 50257, BlockSize: block, NLayer: 1, NHead: 2, NEmbd: 8}, 2)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, model.SaveHF(m, dir))
	return dir
}

// The answers chat prints are what the library's Generate gives for the rendered conversation.
func TestChatAnswersAsGenerateDoes(t *testing.T) {
	dir := saveTiny(t, 64)
	var out bytes.Buffer
	err := run([]string{"-model", dir, "-temperature", "0", "-max-new", "6", "-system", "Be brief."},
		strings.NewReader("Hello\nWhat now?\n"), &out, &out, make(chan os.Signal))
	require.NoError(t, err)

	lm, err := modeldir.Open(dir, model.Float32)
	require.NoError(t, err)
	history := []hf.Message{{Role: "system", Content: "Be brief."}}
	for _, user := range []string{"Hello", "What now?"} {
		history = append(history, hf.Message{Role: "user", Content: user})
		text, err := lm.Template.Render(history, true)
		require.NoError(t, err)
		ids, err := lm.GPT.GenerateAll(context.Background(), lm.Text.Encode(text, false), model.Sampling{MaxNew: 6, Stop: lm.Stop})
		require.NoError(t, err)
		var reply strings.Builder
		st := lm.Text.Stream()
		for _, id := range ids {
			p, err := st.Add(id)
			require.NoError(t, err)
			reply.WriteString(p)
		}
		reply.WriteString(st.Flush())
		assert.Contains(t, out.String(), "> "+reply.String()+"\n")
		history = append(history, hf.Message{Role: "assistant", Content: reply.String()})
	}
}

func TestChatDropsOldTurnsToFitTheContext(t *testing.T) {
	dir := saveTiny(t, 40)
	var out bytes.Buffer
	in := strings.Repeat("tell me more about it\n", 4)
	err := run([]string{"-model", dir, "-temperature", "0", "-max-new", "4"}, strings.NewReader(in), &out, &out, make(chan os.Signal))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "oldest messages to fit the context of 40 tokens")

	out.Reset()
	err = run([]string{"-model", dir, "-max-new", "4"}, strings.NewReader(strings.Repeat("word ", 50)+"\n"), &out, &out, make(chan os.Signal))
	require.NoError(t, err, "a message too long for the context is refused, not fatal")
	assert.Contains(t, out.String(), "cannot hold it")
}

func TestChatRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"-model", "x", "-top-p", "0"}, {"-model", "x", "-temperature", "NaN"}, {"-model", "x", "-max-new", "0"}} {
		var out bytes.Buffer
		assert.Error(t, run(args, strings.NewReader(""), &out, &out, make(chan os.Signal)), "%v", args)
	}
}
