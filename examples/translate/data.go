package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
)

// The task: dates written the way people write them ("the 3rd of july 1987", "july 3, 1987",
// "3 july 1987", "03/07/1987") translated into ISO 8601 ("1987-07-03"), or back (-reverse).
// The year moves from the end to the front and the month from a word to two digits, so each
// output token has to find its source token by content, not by position: exactly what
// cross-attention is for, and what its plot shows.

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

// date is a calendar date, valid by construction.
type date struct{ y, m, d int }

// The dates the task draws from, and the first of them.
const (
	firstYear = 1900
	lastYear  = 2099
)

var epoch = time.Date(firstYear, 1, 1, 0, 0, 0, 0, time.UTC)

// numDates is the number of days from 1900-01-01 to 2099-12-31.
var numDates = int(time.Date(lastYear+1, 1, 1, 0, 0, 0, 0, time.UTC).Sub(epoch).Hours() / 24)

// dateAt returns the date i days after 1900-01-01.
func dateAt(i int) date {
	t := epoch.AddDate(0, 0, i)
	return date{t.Year(), int(t.Month()), t.Day()}
}

// heldOut says whether day i belongs to the evaluation dates, which training never sees: one
// day in 20, spread by a multiplicative hash.
func heldOut(i int) bool { return (uint32(i)*2654435761)>>16%20 == 0 }

func (d date) iso() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

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

// numFormats is the number of human formats.
const numFormats = 4

// human writes d in human format f.
func (d date) human(f int) string {
	month := monthNames[d.m-1]
	switch f {
	case 0:
		return fmt.Sprintf("%d %s %d", d.d, month, d.y)
	case 1:
		return fmt.Sprintf("%s %d, %d", month, d.d, d.y)
	case 2:
		return fmt.Sprintf("the %d%s of %s %d", d.d, ordinal(d.d), month, d.y)
	default:
		return fmt.Sprintf("%02d/%02d/%d", d.d, d.m, d.y)
	}
}

// pair returns a (source, target) example: a human format to ISO, or with reverse ISO to the
// first human format ("3 july 1987").
func pair(d date, f int, reverse bool) (string, string) {
	if reverse {
		return d.iso(), d.human(0)
	}
	return d.human(f), d.iso()
}

// vocab is the shared token vocabulary of sources and targets: the special tokens first (pad,
// BOS, EOS), then digits, punctuation and words.
type vocab struct {
	tokens []string
	ids    map[string]int
}

const (
	padID = 0
	bosID = 1
	eosID = 2
)

func newVocab() *vocab {
	toks := []string{"<pad>", "<s>", "</s>"}
	for c := '0'; c <= '9'; c++ {
		toks = append(toks, string(c))
	}
	toks = append(toks, "-", "/", ",", "the", "of", "st", "nd", "rd", "th")
	toks = append(toks, monthNames...)
	v := &vocab{tokens: toks, ids: map[string]int{}}
	for i, t := range toks {
		v.ids[t] = i
	}
	return v
}

// split cuts text into tokens: each digit and punctuation mark is one, each run of letters is
// one word ("3rd" is "3", "rd"). Case is folded; spaces separate.
func split(text string) []string {
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

// encode returns the ids of text, or an error naming a token outside the vocabulary.
func (v *vocab) encode(text string) ([]int, error) {
	var ids []int
	for _, t := range split(text) {
		id, ok := v.ids[t]
		if !ok || id <= eosID {
			return nil, fmt.Errorf("unknown token %q in %q (the vocabulary has digits, - / , the of st nd rd th and month names)", t, text)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no tokens in %q", text)
	}
	return ids, nil
}

// decode joins tokens back into text: digits, "-" and "/" stick together, "," and ordinal
// suffixes stick to what precedes them, words are separated by spaces.
func (v *vocab) decode(ids []int) string {
	var b strings.Builder
	prevTight := false
	for i, id := range ids {
		t := "?"
		if id >= 0 && id < len(v.tokens) {
			t = v.tokens[id]
		}
		tight := len(t) == 1 && strings.ContainsAny(t, "0123456789-/")
		attach := t == "," || t == "st" || t == "nd" || t == "rd" || t == "th"
		if i > 0 && !(tight && prevTight) && !attach {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		prevTight = tight
	}
	return b.String()
}

// example is one tokenized pair.
type example struct {
	src, tgt []int
	srcText  string
	tgtText  string
}

// sampler draws examples from the training or the held-out dates.
type sampler struct {
	v       *vocab
	rng     *rand.Rand
	reverse bool
	days    []int
}

func newSampler(v *vocab, seed uint64, reverse, evaluation bool) *sampler {
	s := &sampler{v: v, rng: rand.New(rand.NewPCG(seed, 0x6461746573)), reverse: reverse}
	for i := range numDates {
		if heldOut(i) == evaluation {
			s.days = append(s.days, i)
		}
	}
	return s
}

func (s *sampler) next() example {
	d := dateAt(s.days[s.rng.IntN(len(s.days))])
	src, tgt := pair(d, s.rng.IntN(numFormats), s.reverse)
	si, err := s.v.encode(src)
	if err != nil {
		panic(err) // the generator writes only vocabulary tokens
	}
	ti, err := s.v.encode(tgt)
	if err != nil {
		panic(err)
	}
	return example{src: si, tgt: ti, srcText: src, tgtText: tgt}
}

// batch is a padded training batch: sources (B, Ts), target inputs (BOS + target) and outputs
// (target + EOS), (B, Tt).
type batch struct {
	src, tgtIn, tgtOut []int
	b                  int
}

func makeBatch(exs []example) batch {
	ts, tt := 0, 0
	for _, e := range exs {
		ts, tt = max(ts, len(e.src)), max(tt, len(e.tgt)+1)
	}
	bt := batch{b: len(exs)}
	for _, e := range exs {
		bt.src = append(bt.src, e.src...)
		bt.src = appendPad(bt.src, ts-len(e.src))
		bt.tgtIn = append(append(bt.tgtIn, bosID), e.tgt...)
		bt.tgtIn = appendPad(bt.tgtIn, tt-len(e.tgt)-1)
		bt.tgtOut = append(append(bt.tgtOut, e.tgt...), eosID)
		bt.tgtOut = appendPad(bt.tgtOut, tt-len(e.tgt)-1)
	}
	return bt
}

func appendPad(ids []int, n int) []int {
	for range n {
		ids = append(ids, padID)
	}
	return ids
}
