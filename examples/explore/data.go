package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"unicode/utf8"
)

// shakespeare.txt is tiny Shakespeare (1,115,394 bytes), the same file as examples/shakespeare's
// input.txt (git stores the two as one object).
//
//go:embed shakespeare.txt
var shakespeare string

// humpty is the nursery rhyme: small enough that a tiny model learns it by heart in seconds.
const humpty = `Humpty Dumpty sat on a wall,
Humpty Dumpty had a great fall.
All the king's horses and all the king's men
Couldn't put Humpty together again.
`

// texts are the training texts the page offers by name; "custom" is the user's own.
var texts = map[string]struct{ title, text string }{
	"shakespeare": {"tiny Shakespeare", shakespeare},
	"humpty":      {"Humpty Dumpty", humpty},
}

// dataset is a training text, tokenized and split 90/10 into training and validation ids as
// nanoGPT's prepare.py scripts do.
type dataset struct {
	title      string
	voc        *vocab
	train, val []int
	// valIsTrain is set when the text is too short to hold out a validation split: the
	// validation loss is then measured on the training text, and the page says so.
	valIsTrain bool
	// blockSize is the context the run trains with: the one asked for, shortened when the text
	// is too short for it.
	blockSize int
}

// minTrainTokens is the shortest text (in tokens) the page trains on.
const minTrainTokens = 16

// newDataset tokenizes text with a char vocabulary or a BPE of bpeSize tokens learned from it.
func newDataset(ctx context.Context, title, text, kind string, bpeSize, blockSize int) (*dataset, error) {
	if !utf8.ValidString(text) {
		return nil, errors.New("the text is not valid UTF-8")
	}
	d := &dataset{title: title, blockSize: blockSize}
	switch kind {
	case "char":
		d.voc = charVocab(text)
	case "bpe":
		v, err := bpeVocab(ctx, text, bpeSize)
		if err != nil {
			return nil, err
		}
		d.voc = v
	default:
		return nil, fmt.Errorf("unknown tokenizer %q (want char or bpe)", kind)
	}
	ids, _ := d.voc.encode(text)
	if len(ids) < minTrainTokens {
		return nil, fmt.Errorf("the text has %d tokens; the page trains on at least %d", len(ids), minTrainTokens)
	}
	n := int(0.9 * float64(len(ids)))
	d.train, d.val = ids[:n], ids[n:]
	if len(d.val) <= blockSize {
		// Too short to hold out a validation split for this context: train on all of it.
		d.train, d.val, d.valIsTrain = ids, ids, true
	}
	d.blockSize = min(blockSize, len(d.train)-1)
	return d, nil
}

// batch holds B rows of T input ids and, for each, the id that follows it (the target), row-major.
type batch struct{ x, y []int }

// sampleBatch draws b random windows of t+1 consecutive ids, as nanoGPT's get_batch does.
func sampleBatch(data []int, b, t int, rng *rand.Rand) batch {
	out := batch{x: make([]int, 0, b*t), y: make([]int, 0, b*t)}
	for range b {
		i := rng.IntN(len(data) - t)
		out.x = append(out.x, data[i:i+t]...)
		out.y = append(out.y, data[i+1:i+1+t]...)
	}
	return out
}
