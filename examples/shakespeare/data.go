package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

// vocabulary is what training and sampling need of a tokenizer: tokenizer.Char (nanoGPT's
// shakespeare_char) or a byte-level BPE trained on the text.
type vocabulary interface {
	Encode(text string) []int
	Decode(ids []int) (string, error)
	VocabSize() int
	TokenBytes(id int) ([]byte, error)
}

// dataset is a text encoded by its tokenizer and split 90/10 into training and validation ids,
// as nanoGPT's prepare.py scripts do.
type dataset struct {
	tok vocabulary
	// vocabID identifies the vocabulary, so a checkpoint can tell whether it was trained on the
	// same one: the character list for char, a digest of the merge ranks for BPE.
	vocabID    string
	train, val []int
}

// newDataset tokenizes text and splits it. kind is "char", "gpt2" (GPT-2's own tokenizer, for
// fine-tuning GPT-2), "model" (the tokenizer of model directory dir, for fine-tuning it) or "bpe" (a byte-level BPE of bpeVocab tokens learned from the text with
// GPT-2's split pattern; deterministic, so the same text always gives the same vocabulary). Both splits must be longer than blockSize, since a
// batch row needs blockSize+1 consecutive ids (inputs and their next-token targets).
func newDataset(ctx context.Context, text string, blockSize int, kind string, bpeVocab int, dir string) (*dataset, error) {
	if text == "" {
		return nil, errors.New("the training text is empty")
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("the training text is not valid UTF-8")
	}
	d := &dataset{}
	switch kind {
	case "char":
		c := tokenizer.NewChar(text)
		d.tok, d.vocabID = c, c.Vocab()
	case "gpt2":
		enc, err := gpt2.Encoding()
		if err != nil {
			return nil, err
		}
		d.tok, d.vocabID = enc, "gpt2"
	case "model":
		tok, id, err := dirVocabulary(dir)
		if err != nil {
			return nil, err
		}
		d.tok, d.vocabID = tok, id
	case "bpe":
		b, err := tokenizer.Train(ctx, text, tokenizer.TrainConfig{VocabSize: bpeVocab, Pattern: tokenizer.GPT2Pattern})
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		if err := b.WriteTiktoken(h); err != nil {
			return nil, err
		}
		d.tok, d.vocabID = b, fmt.Sprintf("bpe %d %x", b.VocabSize(), h.Sum(nil))
	default:
		return nil, fmt.Errorf("unknown tokenizer %q (want char, bpe, gpt2 or model)", kind)
	}
	ids := d.tok.Encode(text)
	n := int(0.9 * float64(len(ids)))
	d.train, d.val = ids[:n], ids[n:]
	if len(d.train) <= blockSize || len(d.val) <= blockSize {
		return nil, fmt.Errorf("the text has %d tokens: too short for a 90/10 split with block size %d (each split needs more than %d)", len(ids), blockSize, blockSize)
	}
	return d, nil
}

// batch holds B rows of T input ids and, for each, the id that follows it (the target), row-major.
type batch struct {
	x, y []int
}

// sampleBatch draws b random windows of t+1 consecutive ids from data, nanoGPT's get_batch: a
// start i uniform in [0, len(data)−t), inputs data[i:i+t], targets data[i+1:i+1+t].
func sampleBatch(data []int, b, t int, rng windowSource) batch {
	out := batch{x: make([]int, 0, b*t), y: make([]int, 0, b*t)}
	for range b {
		i := rng.IntN(len(data) - t)
		out.x = append(out.x, data[i:i+t]...)
		out.y = append(out.y, data[i+1:i+1+t]...)
	}
	return out
}

// evalBatches draws the n batches that every evaluation of a split uses, from a generator of their
// own, so that losses at different steps are measured on the same text and evaluation does not
// disturb the training batches' generator.
func evalBatches(data []int, n, b, t int, rng windowSource) []batch {
	out := make([]batch, n)
	for i := range out {
		out[i] = sampleBatch(data, b, t, rng)
	}
	return out
}
