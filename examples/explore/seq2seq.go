package main

// The encoder–decoder side of the explorer: a Transformer that examples/translate -save wrote (or
// any model.SaveTransformer directory), served with -seq2seq DIR. The Run view translates the
// text and shows the source and output tokens and the attention maps of every layer and head:
// the cross-attention, the decoder's and the encoder's self-attention.

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/goformer/goformer/examples/internal/dates"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/tensor"
)

// maxBeam is the widest beam a request may ask for.
const maxBeam = 8

// seqVocab is an encoder–decoder's vocabulary as the page uses it: the word list that
// examples/translate saves beside its model (vocab.json), or, for a directory without one, the
// ids themselves (the text is a list of numbers).
type seqVocab struct {
	words *dates.Vocab // nil: ids
	cfg   model.TransformerConfig
}

func (v *seqVocab) kind() string {
	if v.words != nil {
		return "words"
	}
	return "ids"
}

// encode returns the source ids of text.
func (v *seqVocab) encode(text string) ([]int, error) {
	if v.words != nil {
		return v.words.Encode(text)
	}
	var ids []int
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a token id (this model has no vocabulary file: type its source ids, such as 3 4 5)", clip(f, 20))
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no token ids in %q", clip(text, 40))
	}
	return ids, nil
}

// piece returns the text of token id.
func (v *seqVocab) piece(id int) string {
	if v.words != nil {
		return v.words.Token(id)
	}
	switch id {
	case v.cfg.PadID:
		return "<pad>"
	case v.cfg.BosID:
		return "<s>"
	case v.cfg.EosID:
		return "</s>"
	}
	return strconv.Itoa(id)
}

func (v *seqVocab) pieces(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = v.piece(id)
	}
	return out
}

// decode returns the text of a translation.
func (v *seqVocab) decode(ids []int) string {
	if v.words != nil {
		return v.words.Decode(ids)
	}
	return strings.Join(v.pieces(ids), " ")
}

// example is a source to show first: a date, for examples/translate's vocabulary.
func (v *seqVocab) example() string {
	if v.words != nil {
		for _, s := range []string{"the 3rd of july 1987", "1987-07-03"} {
			if _, err := v.words.Encode(s); err == nil {
				return s
			}
		}
		return ""
	}
	var ids []string
	for id := 0; id < v.cfg.SrcVocabSize && len(ids) < 5; id++ {
		if id != v.cfg.PadID && id != v.cfg.BosID && id != v.cfg.EosID {
			ids = append(ids, strconv.Itoa(id))
		}
	}
	return strings.Join(ids, " ")
}

// loadSeq2Seq reads a model.SaveTransformer directory and, when there is one, the vocabulary
// examples/translate saved beside it.
func loadSeq2Seq(dir string) (*model.Transformer, *seqVocab, error) {
	m, err := model.LoadTransformer(dir)
	if err != nil {
		return nil, nil, err
	}
	c := m.Config
	words, err := dates.LoadVocab(dir, c.PadID, c.BosID, c.EosID)
	switch {
	case errors.Is(err, os.ErrNotExist):
		words = nil
	case err != nil:
		return nil, nil, err
	case words.Size() != c.SrcVocabSize || words.Size() != c.TgtVocabSize:
		return nil, nil, fmt.Errorf("%s: %s has %d tokens, the model's vocabularies %d and %d", dir, dates.VocabFile, words.Size(), c.SrcVocabSize, c.TgtVocabSize)
	}
	return m.Frozen(), &seqVocab{words: words, cfg: c}, nil
}

// seqLimit is the longest source (and output) one translation shows: the model's max_len, the
// page's limit, and few enough that all the attention maps stay within maxAttnValues.
func seqLimit(s *served) int {
	c := s.tm.Config
	byAttn := int(math.Sqrt(float64(maxAttnValues) / float64((c.NumEncoderLayers+2*c.NumDecoderLayers)*c.NHead)))
	return max(1, min(c.MaxLen-1, maxRunTokens, byAttn))
}

// translateRequest is what /api/translate takes, as a JSON body (POST) or as query parameters
// (GET: ids as "1,2,3").
type translateRequest struct {
	Model string  `json:"model"` // "" is the first encoder–decoder
	Text  *string `json:"text"`  // the source, or
	IDs   []int   `json:"ids"`   // its ids
	Beam  int     `json:"beam"`  // 0 or 1: greedy; up to maxBeam
}

func parseTranslateRequest(w http.ResponseWriter, r *http.Request) (*translateRequest, error) {
	req := &translateRequest{}
	if r.Method == http.MethodPost {
		return req, decodeJSON(w, r, maxBodyBytes, req)
	}
	q := r.URL.Query()
	if err := parseInput(q, &req.Model, &req.Text, &req.IDs, "beam"); err != nil {
		return nil, err
	}
	if q.Has("beam") {
		b, err := strconv.Atoi(q.Get("beam"))
		if err != nil {
			return nil, badRequest("beam: %q is not an integer", clip(q.Get("beam"), 20))
		}
		req.Beam = b
	}
	return req, nil
}

// translateResponse is everything the Run view shows for an encoder–decoder.
type translateResponse struct {
	Model     string      `json:"model"`
	Version   uint64      `json:"version"`
	Note      string      `json:"note"`
	Tokenizer string      `json:"tokenizer"` // "words" or "ids"
	Source    []tokenInfo `json:"source"`
	// Output are the translation's tokens, its EOS last when it ended: P is the probability the
	// decoder gave each where it wrote it, Top its likeliest choices there.
	Output      []tokenInfo `json:"output"`
	Ended       bool        `json:"ended"`
	Translation string      `json:"translation"`
	Beam        int         `json:"beam"`
	LogProb     float64     `json:"log_prob"`
	Limit       int         `json:"limit"` // the longest source a translation shows
	// Attention are "cross" (rows: the output tokens being written; columns: the source),
	// "decoder" (rows: the same; columns: the decoder's inputs, <s> and the tokens before) and
	// "encoder" (the source over itself).
	Attention []attentionMap `json:"attention"`
}

func (srv *server) handleTranslate(w http.ResponseWriter, r *http.Request) error {
	req, err := parseTranslateRequest(w, r)
	if err != nil {
		return err
	}
	e, s, err := srv.reg.lookup(req.Model, kindSeq2Seq)
	if err != nil {
		return err
	}
	src, err := srv.checkSource(req, e, s)
	if err != nil {
		return err
	}
	beam := max(1, req.Beam)
	release, err := srv.acquire(r.Context())
	if err != nil {
		return err
	}
	defer release()
	limit := seqLimit(s)
	hyps, err := s.tm.Translate(r.Context(), [][]int{src}, model.Decoding{MaxNew: limit, Beam: beam, LengthPenalty: 1})
	if err != nil {
		return &httpError{code: http.StatusUnprocessableEntity, msg: err.Error()}
	}
	h := hyps[0]
	c := s.tm.Config
	rows := append([]int(nil), h.Tokens...) // what each decoder position wrote
	if h.Ended {
		rows = append(rows, c.EosID)
	}
	tgtIn := append([]int{c.BosID}, rows[:len(rows)-1]...) // MaxNew ≥ 1: rows is never empty
	att, err := s.tm.Inspect(src, tgtIn)
	if err != nil {
		return &httpError{code: http.StatusUnprocessableEntity, msg: err.Error()}
	}
	logits, err := s.tm.Forward(src, tgtIn, 1) // s.tm is frozen: no graph, no dropout
	if err != nil {
		return &httpError{code: http.StatusUnprocessableEntity, msg: err.Error()}
	}
	out := &translateResponse{
		Model: e.name, Version: s.version, Note: s.note, Tokenizer: s.seq.kind(), Ended: h.Ended,
		Translation: s.seq.decode(h.Tokens), Beam: beam, LogProb: h.LogProb, Limit: limit,
	}
	for _, id := range src {
		out.Source = append(out.Source, tokenInfo{ID: id, Text: s.seq.piece(id)})
	}
	v := c.TgtVocabSize
	all := logits.Value.Contiguous().Data()
	for t, id := range rows {
		probs := softmax(all[t*v : (t+1)*v])
		if probs == nil {
			return &httpError{code: http.StatusUnprocessableEntity, msg: "the model's logits are not finite"}
		}
		p := probs[id]
		ti := tokenInfo{ID: id, Text: s.seq.piece(id), P: &p}
		for _, k := range rankByProb(probs, topPerStep) {
			ti.Top = append(ti.Top, choice{ID: k, Text: s.seq.piece(k), P: float64(probs[k])})
		}
		out.Output = append(out.Output, ti)
	}
	srcLabels, rowLabels, inLabels := s.seq.pieces(src), s.seq.pieces(rows), s.seq.pieces(tgtIn)
	cross := encodeLayers("cross", att.Cross)
	cross.RowLabels, cross.ColLabels = rowLabels, srcLabels
	dec := encodeLayers("decoder", att.DecoderSelf)
	dec.RowLabels, dec.ColLabels, dec.Causal = rowLabels, inLabels, true
	enc := encodeLayers("encoder", att.Encoder)
	enc.RowLabels, enc.ColLabels = srcLabels, srcLabels
	out.Attention = []attentionMap{cross, dec, enc}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// checkSource checks a translate request against its model and returns the source ids.
func (srv *server) checkSource(req *translateRequest, e *entry, s *served) ([]int, error) {
	if req.Beam < 0 || req.Beam > maxBeam {
		return nil, badRequest("beam must be in [0, %d] (0 and 1: greedy), got %d", maxBeam, req.Beam)
	}
	if err := checkInput(req.Text, req.IDs); err != nil {
		return nil, err
	}
	src := req.IDs
	if req.Text != nil {
		ids, err := s.seq.encode(*req.Text)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		src = ids
	}
	c := s.tm.Config
	for i, id := range src {
		if id < 0 || id >= c.SrcVocabSize {
			return nil, badRequest("id %d at position %d is outside the source vocabulary [0, %d) of model %q", id, i, c.SrcVocabSize, e.name)
		}
		if id == c.PadID {
			return nil, badRequest("id %d at position %d is the padding token", id, i)
		}
	}
	if limit := seqLimit(s); len(src) > limit {
		return nil, badRequest("the source has %d tokens; model %q translates at most %d", len(src), e.name, limit)
	}
	return src, nil
}

// encodeLayers packs per-layer weights (NH, Tq, Tk) into an attentionMap.
func encodeLayers(name string, ws []*tensor.Tensor) attentionMap {
	att := make([][][][]float32, len(ws))
	rows, cols := 0, 0
	for l, w := range ws {
		nh, tq, tk := w.Dim(0), w.Dim(1), w.Dim(2)
		rows, cols = tq, tk
		att[l] = make([][][]float32, nh)
		for h := range nh {
			att[l][h] = make([][]float32, tq)
			for q := range tq {
				att[l][h][q] = w.Index(0, h).Index(0, q).Values()
			}
		}
	}
	return encodeAttention(name, att, rows, cols)
}
