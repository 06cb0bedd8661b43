package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/examples/internal/dates"
	"github.com/goformer/goformer/model"
)

// dateModel saves a small encoder–decoder for examples/translate's task, as examples/translate
// -save does (with its vocabulary unless noVocab), after steps training steps, and returns its
// directory and the model.
func dateModel(t testing.TB, steps int, noVocab bool) (string, *model.Transformer) {
	t.Helper()
	v := dates.NewVocab()
	cfg := dates.Config{Steps: steps, Batch: 32, DModel: 32, NHead: 4, FF: 64, EncLayers: 1, DecLayers: 2, LR: 3e-3, Warmup: steps / 10, Seed: 3}
	m, err := model.NewTransformer(cfg.Model(v), cfg.Seed)
	require.NoError(t, err)
	_, err = dates.Train(context.Background(), m, v, cfg, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, model.SaveTransformer(m, dir))
	if !noVocab {
		require.NoError(t, dates.SaveVocab(dir, v))
	}
	return dir, m
}

// trainSteps is n, or none under the race detector, where one training step takes seconds: the
// tests compare the page with the library, which holds for an untrained model too.
func trainSteps(n int) int {
	if raceEnabled {
		return 0
	}
	return n
}

// translation is the library's translation of a date, decoded as the page decodes it (greedy or
// with a beam, up to max_len − 1 tokens).
func translation(t testing.TB, m *model.Transformer, text string, beam int) string {
	t.Helper()
	v := dates.NewVocab()
	src, err := v.Encode(text)
	require.NoError(t, err)
	hyps, err := m.Translate(context.Background(), [][]int{src}, model.Decoding{MaxNew: m.Config.MaxLen - 1, Beam: beam, LengthPenalty: 1})
	require.NoError(t, err)
	return v.Decode(hyps[0].Tokens)
}

// TestTranslate runs an encoder–decoder through /api/translate and checks the answer against
// the library: the translation against model.Translate, the cross-attention against
// model.CrossAttention, each greedy output token against the decoder's likeliest choice, and
// the shapes, labels and masks of the three attention maps.
func TestTranslate(t *testing.T) {
	dir, m := dateModel(t, trainSteps(150), false)
	_, ts := newTestServer(t, options{seq: dir})

	var models struct {
		Models []modelInfo `json:"models"`
	}
	code, body := call(t, ts, "GET", "/api/models", nil, &models)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, models.Models, 3)
	info := models.Models[0]
	assert.Equal(t, "seq2seq", info.Name, "the encoder–decoder comes before the page's own GPTs")
	assert.Equal(t, kindSeq2Seq, info.Kind)
	assert.Equal(t, kindGPT, models.Models[1].Kind)
	assert.Equal(t, kindGPT, models.Models[2].Kind)
	assert.Equal(t, "words", info.Tokenizer)
	assert.Equal(t, 1, info.EncLayers)
	assert.Equal(t, 2, info.Layers)
	assert.Equal(t, "the 3rd of july 1987", info.Example)
	assert.Equal(t, 31, info.Window, "max_len 32 less the BOS")

	text := "july 4, 1976"
	var r translateResponse
	code, body = call(t, ts, "POST", "/api/translate", map[string]any{"text": text}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "seq2seq", r.Model)
	assert.Equal(t, 1, r.Beam)
	var src []string
	for _, tk := range r.Source {
		src = append(src, tk.Text)
	}
	assert.Equal(t, []string{"july", "4", ",", "1", "9", "7", "6"}, src)
	v := dates.NewVocab()
	want := translation(t, m, text, 1)
	assert.Equal(t, want, r.Translation)
	require.NotEmpty(t, r.Output)
	var outIDs []int
	for i, tk := range r.Output {
		require.NotNil(t, tk.P, "output %d", i)
		assert.Greater(t, *tk.P, float32(0))
		assert.LessOrEqual(t, *tk.P, float32(1))
		require.NotEmpty(t, tk.Top)
		assert.Equal(t, tk.ID, tk.Top[0].ID, "greedy decoding writes the likeliest token (output %d)", i)
		outIDs = append(outIDs, tk.ID)
	}
	if r.Ended {
		assert.Equal(t, "</s>", r.Output[len(r.Output)-1].Text)
		outIDs = outIDs[:len(outIDs)-1]
	}
	assert.Equal(t, want, v.Decode(outIDs))

	require.Len(t, r.Attention, 3)
	tt, tsrc := len(r.Output), len(r.Source)
	for i, c := range []struct {
		name       string
		layers     int
		rows, cols int
		causal     bool
	}{{"cross", 2, tt, tsrc, false}, {"decoder", 2, tt, tt, true}, {"encoder", 1, tsrc, tsrc, false}} {
		a := r.Attention[i]
		assert.Equal(t, c.name, a.Name)
		assert.Equal(t, c.layers, a.Layers, a.Name)
		assert.Equal(t, 4, a.Heads, a.Name)
		assert.Equal(t, []int{c.rows, c.cols}, []int{a.Rows, a.Cols}, a.Name)
		assert.Equal(t, c.causal, a.Causal, a.Name)
		require.Len(t, a.RowLabels, a.Rows, a.Name)
		require.Len(t, a.ColLabels, a.Cols, a.Name)
		w := decodeAttn(t, a)
		for row := range a.Layers * a.Heads * a.Rows {
			sum := 0.0
			for col := range a.Cols {
				x := w[row*a.Cols+col]
				if c.causal && col > row%a.Rows {
					assert.Zero(t, x, "%s: masked", a.Name)
				}
				sum += x
			}
			assert.InDelta(t, 1, sum, 2e-3, "%s: row %d sums to 1", a.Name, row)
		}
	}
	cross := r.Attention[0]
	assert.Equal(t, src, cross.ColLabels)
	assert.Equal(t, r.Output[0].Text, cross.RowLabels[0])
	assert.Equal(t, "<s>", r.Attention[1].ColLabels[0], "the decoder's first input is BOS")
	// the same weights from the library, for the tokens the page shows
	srcIDs, err := v.Encode(text)
	require.NoError(t, err)
	tgtIn := []int{dates.BosID}
	for _, tk := range r.Output[:tt-1] {
		tgtIn = append(tgtIn, tk.ID)
	}
	lib, err := m.CrossAttention(srcIDs, tgtIn)
	require.NoError(t, err)
	w := decodeAttn(t, cross)
	for l := range lib {
		for h := range 4 {
			for q := range tt {
				for k := range tsrc {
					assert.InDelta(t, lib[l].At(h, q, k), w[((l*4+h)*tt+q)*tsrc+k], 1/65535.0+1e-6)
				}
			}
		}
	}

	// GET, with ids and a beam
	ids := make([]string, len(srcIDs))
	for i, id := range srcIDs {
		ids[i] = strconv.Itoa(id)
	}
	var rb translateResponse
	code, body = call(t, ts, "GET", "/api/translate?beam=4&ids="+url.QueryEscape(strings.Join(ids, ",")), nil, &rb)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 4, rb.Beam)
	assert.Equal(t, translation(t, m, text, 4), rb.Translation)
}

// TestTranslateBadRequests: every bad request gets a 4xx that says what was wrong.
func TestTranslateBadRequests(t *testing.T) {
	dir, _ := dateModel(t, 0, false)
	_, ts := newTestServer(t, options{seq: dir})
	long := strings.TrimSpace(strings.Repeat("1 ", 40))
	for _, c := range []struct {
		method, path string
		body         any
		code         int
		says         string
	}{
		{"POST", "/api/translate", map[string]any{"model": "nope", "text": "1 may 2000"}, 404, `unknown model "nope"`},
		{"POST", "/api/translate", map[string]any{"model": "trained", "text": "1 may 2000"}, 400, "is a GPT"},
		{"POST", "/api/run", map[string]any{"model": "seq2seq", "text": "1 may 2000"}, 400, "is an encoder–decoder"},
		{"GET", "/api/embeddings?model=seq2seq", nil, 400, "is an encoder–decoder"},
		{"POST", "/api/translate", map[string]any{"text": "1 mai 2000"}, 400, `unknown token "mai"`},
		{"POST", "/api/translate", map[string]any{"text": "   "}, 400, "no tokens"},
		{"POST", "/api/translate", map[string]any{"ids": []int{3, 99}}, 400, "id 99 at position 1 is outside the source vocabulary [0, 34)"},
		{"POST", "/api/translate", map[string]any{"ids": []int{-1}}, 400, "outside the source vocabulary"},
		{"POST", "/api/translate", map[string]any{"ids": []int{3, 0, 4}}, 400, "is the padding token"},
		{"POST", "/api/translate", map[string]any{"ids": []int{}}, 400, "ids is empty"},
		{"POST", "/api/translate", map[string]any{"text": long}, 400, "the source has 40 tokens; model \"seq2seq\" translates at most 31"},
		{"POST", "/api/translate", map[string]any{"text": strings.Repeat("1", maxTextBytes+1)}, 413, "limit is 4000"},
		{"POST", "/api/translate", map[string]any{"text": "1 may 2000", "beam": 9}, 400, "beam must be in [0, 8]"},
		{"POST", "/api/translate", map[string]any{"text": "1 may 2000", "beam": -1}, 400, "beam must be"},
		{"POST", "/api/translate", map[string]any{"text": "1 may 2000", "ids": []int{3}}, 400, "not both"},
		{"POST", "/api/translate", map[string]any{}, 400, "give text or ids"},
		{"POST", "/api/translate", map[string]any{"text": "1 may 2000", "temperature": 1}, 400, "unknown field"},
		{"POST", "/api/translate", `{"text": `, 400, "malformed JSON"},
		{"GET", "/api/translate?text=1+may+2000&top_k=3", nil, 400, `unknown parameter "top_k"`},
		{"GET", "/api/translate?text=1+may+2000&beam=wide", nil, 400, `beam: "wide" is not an integer`},
		{"GET", "/api/translate?ids=3,x", nil, 400, `"x" is not a token id`},
	} {
		code, body := call(t, ts, c.method, c.path, c.body, nil)
		assert.Equal(t, c.code, code, "%s %s %v: %s", c.method, c.path, c.body, body)
		assert.Contains(t, errorOf(t, body), c.says, "%s %s %v", c.method, c.path, c.body)
	}
	// with no encoder–decoder, /api/translate has nothing to run
	_, plain := newTestServer(t, options{})
	code, body := call(t, plain, "POST", "/api/translate", map[string]any{"text": "1 may 2000"}, nil)
	assert.Equal(t, 404, code, body)
	// and the GPT endpoints still default to the GPT when the encoder–decoder comes first
	code, body = call(t, ts, "POST", "/api/run", map[string]any{"text": "Hello"}, nil)
	assert.Equal(t, 200, code, body)
}

// TestTranslateWithoutVocabulary serves a model.SaveTransformer directory that has no
// vocab.json: its tokens are its ids.
func TestTranslateWithoutVocabulary(t *testing.T) {
	dir, m := dateModel(t, 0, true)
	_, ts := newTestServer(t, options{seq: dir})
	var r translateResponse
	code, body := call(t, ts, "POST", "/api/translate", map[string]any{"text": "5 6, 7"}, &r)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "ids", r.Tokenizer)
	require.Len(t, r.Source, 3)
	assert.Equal(t, "6", r.Source[1].Text)
	assert.Equal(t, 6, r.Source[1].ID)
	hyps, err := m.Translate(context.Background(), [][]int{{5, 6, 7}}, model.Decoding{MaxNew: 31})
	require.NoError(t, err)
	want := make([]string, len(hyps[0].Tokens))
	for i, id := range hyps[0].Tokens {
		want[i] = strconv.Itoa(id)
	}
	assert.Equal(t, strings.Join(want, " "), r.Translation)
	code, body = call(t, ts, "POST", "/api/translate", map[string]any{"text": "5 six"}, nil)
	assert.Equal(t, 400, code)
	assert.Contains(t, errorOf(t, body), `"six" is not a token id`)
}

// TestLoadSeq2SeqErrors: a directory that is not a model, or whose vocabulary does not fit it,
// stops the program at start with a message.
func TestLoadSeq2SeqErrors(t *testing.T) {
	_, err := newServer(context.Background(), options{seq: t.TempDir()})
	assert.ErrorContains(t, err, "config.json")
	dir, _ := dateModel(t, 0, false)
	toks := make([]string, 35)
	for i := range toks {
		toks[i] = strconv.Itoa(i)
	}
	data, err := json.Marshal(map[string]any{"tokens": toks})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, dates.VocabFile), data, 0o644))
	_, err = newServer(context.Background(), options{seq: dir})
	assert.ErrorContains(t, err, "has 35 tokens, the model's vocabularies 34 and 34")
	require.NoError(t, os.WriteFile(filepath.Join(dir, dates.VocabFile), []byte(`{"tokens": `), 0o644))
	_, err = newServer(context.Background(), options{seq: dir})
	assert.Error(t, err)
}

// errorOf returns the message of an error answer.
func errorOf(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e.Error
}
