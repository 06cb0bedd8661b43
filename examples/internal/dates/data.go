// Package dates is the translation task that examples/translate and step 11 of examples/lessons
// train the encoder–decoder Transformer on: dates written the way people write them ("the 3rd
// of july 1987", "july 3, 1987", "3 july 1987", "03/07/1987") translated into ISO 8601
// ("1987-07-03"), or back. It holds the data generator, the word-level vocabulary, the training
// loop, held-out evaluation and the cross-attention of one translation, so that both programs
// run the same code:
//
//	v := dates.NewVocab()
//	m, _ := model.NewTransformer(cfg.Model(v), cfg.Seed)
//	tr, err := dates.Train(ctx, m, v, cfg, os.Stdout)  // tr.Losses, tr.Seconds
//	ev, err := dates.Evaluate(ctx, m, v, dates.Eval{N: 1000, Seed: cfg.Seed + 1})  // ev.Accuracy()
//	a, err := dates.Align(ctx, m, v, "july 4, 1976")   // the cross-attention, per layer and head
//	err = a.Plot("attention.png", v, len(a.Cross)-1, "title") // one panel per head
//
// The year moves from the end to the front and the month from a word to two digits, so each
// output token has to find its source token by content, not by position: exactly what
// cross-attention is for, and what its picture shows.
//
// It is internal: the examples share it (examples/explore reads the vocabulary that
// examples/translate -save writes beside a model), and its API may change with them.
package dates

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
)

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

// Date is a calendar date, valid by construction.
type Date struct{ Y, M, D int }

// The dates the task draws from.
const (
	FirstYear = 1900
	LastYear  = 2099
)

var epoch = time.Date(FirstYear, 1, 1, 0, 0, 0, 0, time.UTC)

// NumDates is the number of days from 1900-01-01 to 2099-12-31.
var NumDates = int(time.Date(LastYear+1, 1, 1, 0, 0, 0, 0, time.UTC).Sub(epoch).Hours() / 24)

// DateAt returns the date i days after 1900-01-01.
func DateAt(i int) Date {
	t := epoch.AddDate(0, 0, i)
	return Date{t.Year(), int(t.Month()), t.Day()}
}

// HeldOut says whether day i belongs to the evaluation dates, which training never sees: one
// day in 20, spread by a multiplicative hash.
func HeldOut(i int) bool { return (uint32(i)*2654435761)>>16%20 == 0 }

// ISO writes d as ISO 8601: 1987-07-03.
func (d Date) ISO() string { return fmt.Sprintf("%04d-%02d-%02d", d.Y, d.M, d.D) }

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return "th"
	case n%10 == 1:
		return "st"
	case n%10 == 2:
		return "nd"
	case n%10 == 3:
		return "rd"
	}
	return "th"
}

// NumFormats is the number of human formats.
const NumFormats = 4

// Human writes d in human format f: 0 "3 july 1987", 1 "july 3, 1987", 2 "the 3rd of july
// 1987", 3 "03/07/1987".
func (d Date) Human(f int) string {
	month := monthNames[d.M-1]
	switch f {
	case 0:
		return fmt.Sprintf("%d %s %d", d.D, month, d.Y)
	case 1:
		return fmt.Sprintf("%s %d, %d", month, d.D, d.Y)
	case 2:
		return fmt.Sprintf("the %d%s of %s %d", d.D, ordinal(d.D), month, d.Y)
	default:
		return fmt.Sprintf("%02d/%02d/%d", d.D, d.M, d.Y)
	}
}

// Pair returns a (source, target) example: a human format to ISO, or with reverse ISO to the
// first human format ("3 july 1987").
func Pair(d Date, f int, reverse bool) (string, string) {
	if reverse {
		return d.ISO(), d.Human(0)
	}
	return d.Human(f), d.ISO()
}

// Example is one tokenized pair.
type Example struct {
	Src, Tgt []int
	SrcText  string
	TgtText  string
}

// Sampler draws examples from the training or the held-out dates.
type Sampler struct {
	v       *Vocab
	rng     *rand.Rand
	reverse bool
	days    []int
}

// NewSampler returns a sampler of the training dates (evaluation false) or of the held-out ones,
// seeded with seed, translating into ISO or, with reverse, out of it.
func NewSampler(v *Vocab, seed uint64, reverse, evaluation bool) *Sampler {
	s := &Sampler{v: v, rng: rand.New(rand.NewPCG(seed, 0x6461746573)), reverse: reverse}
	for i := range NumDates {
		if HeldOut(i) == evaluation {
			s.days = append(s.days, i)
		}
	}
	return s
}

// Days returns how many dates s draws from.
func (s *Sampler) Days() int { return len(s.days) }

// Next draws an example: a date of s's set, in a random human format.
func (s *Sampler) Next() Example {
	d := DateAt(s.days[s.rng.IntN(len(s.days))])
	src, tgt := Pair(d, s.rng.IntN(NumFormats), s.reverse)
	si, err := s.v.Encode(src)
	if err != nil {
		panic(err) // the generator writes only vocabulary tokens
	}
	ti, err := s.v.Encode(tgt)
	if err != nil {
		panic(err)
	}
	return Example{Src: si, Tgt: ti, SrcText: src, TgtText: tgt}
}

// Batch is a padded training batch: sources (B, Ts), target inputs (BOS + target) and outputs
// (target + EOS), (B, Tt).
type Batch struct {
	Src, TgtIn, TgtOut []int
	B                  int
}

// MakeBatch pads exs on the right into one batch.
func MakeBatch(exs []Example) Batch {
	ts, tt := 0, 0
	for _, e := range exs {
		ts, tt = max(ts, len(e.Src)), max(tt, len(e.Tgt)+1)
	}
	bt := Batch{B: len(exs)}
	for _, e := range exs {
		bt.Src = append(bt.Src, e.Src...)
		bt.Src = appendPad(bt.Src, ts-len(e.Src))
		bt.TgtIn = append(append(bt.TgtIn, BosID), e.Tgt...)
		bt.TgtIn = appendPad(bt.TgtIn, tt-len(e.Tgt)-1)
		bt.TgtOut = append(append(bt.TgtOut, e.Tgt...), EosID)
		bt.TgtOut = appendPad(bt.TgtOut, tt-len(e.Tgt)-1)
	}
	return bt
}

func appendPad(ids []int, n int) []int {
	for range n {
		ids = append(ids, PadID)
	}
	return ids
}

// Split cuts text into tokens: each digit and punctuation mark is one, each run of letters is
// one word ("3rd" is "3", "rd"). Case is folded; spaces separate.
func Split(text string) []string {
	var out []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r):
			word.WriteRune(r)
		case unicode.IsSpace(r):
			flush()
		default:
			flush()
			out = append(out, string(r))
		}
	}
	flush()
	return out
}
