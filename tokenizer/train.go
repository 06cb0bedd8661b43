package tokenizer

import (
	"bufio"
	"context"

	"fmt"
	"io"
	"slices"
	"strings"
)

// TrainConfig says what vocabulary Train learns.
type TrainConfig struct {
	// VocabSize is the size of the whole vocabulary: the 256 single bytes, the learned merges and the
	// special tokens.
	VocabSize int
	// Pattern splits the text into pieces before counting; merges never cross pieces. Empty means
	// CL100kPattern.
	Pattern string
	// Special tokens get the last ids, in this order. Their occurrences in the training text are cut
	// out before counting, so no merge learns from them.
	Special []string
}

// Train learns a byte-level BPE vocabulary from text, as minbpe's RegexTokenizer does: split the
// text with the pattern, start from bytes (token i is byte i), and repeatedly merge the most frequent
// adjacent pair of tokens into a new token, counting a pair once per occurrence inside each piece.
//
// The result is deterministic: of pairs with equal counts, the one with the smaller left id wins, then
// the smaller right id. A merge whose bytes equal an existing token's (two ways of building the same
// string) reuses that token's id, so ids stay equal to ranks; it is still listed in Merges.
//
// Distinct pieces are counted once with their frequency, pair counts are updated incrementally around
// each merge, and the best pair comes from a priority queue, so a merge costs time in proportion to
// the pieces that contain it, not to the text.
func Train(ctx context.Context, text string, cfg TrainConfig) (*BPE, error) {
	tr, err := newTrainer(cfg)
	if err != nil {
		return nil, err
	}
	tr.count(text)
	return tr.train(ctx)
}

// TrainReader is Train for a text too large to hold in memory. It reads r in blocks and cuts them
// only after a line break that sits between two visible ASCII characters ("x\ny"), where neither
// built-in pattern can join pieces across the cut, so the result equals Train on the whole text.
// (A custom pattern that can match across such a line break would see slightly different pieces.)
func TrainReader(ctx context.Context, r io.Reader, cfg TrainConfig) (*BPE, error) {
	tr, err := newTrainer(cfg)
	if err != nil {
		return nil, err
	}
	block := trainBlock
	br := bufio.NewReaderSize(r, block)
	var buf []byte
	for eof := false; !eof; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := make([]byte, block)
		n, err := io.ReadFull(br, chunk)
		buf = append(buf, chunk[:n]...)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			eof = true
		case err != nil:
			return nil, fmt.Errorf("tokenizer: reading training text: %w", err)
		}
		cut := len(buf)
		if !eof {
			cut = safeCut(buf)
			if cut < 0 {
				continue // no safe place yet: read more
			}
		}
		tr.count(string(buf[:cut]))
		buf = append(buf[:0], buf[cut:]...)
	}
	return tr.train(ctx)
}

// trainBlock is how much TrainReader reads at a time (a variable so that tests can shrink it).
var trainBlock = 1 << 20

// safeCut returns the last index i with buf[i-1] == '\n' and buf[i-2], buf[i] visible ASCII, or -1.
func safeCut(buf []byte) int {
	visible := func(c byte) bool { return '!' <= c && c <= '~' }
	for i := len(buf) - 1; i >= 2; i-- {
		if buf[i-1] == '\n' && visible(buf[i]) && visible(buf[i-2]) {
			return i
		}
	}
	return -1
}

type pairRec struct {
	a, b    int32
	count   int64
	heapPos int32   // position in the trainer's heap, -1 when absent
	words   []int32 // words that may contain the pair (some may no longer)
	delta   int64   // pending change during a merge
	touched bool
}

type trainer struct {
	cfg   TrainConfig
	split splitter
	freq  map[string]int64 // distinct piece -> occurrences

	// The distinct pieces ("words") as token sequences, all in one array.
	syms   []int32
	wStart []int32
	wLen   []int32
	wFreq  []int64
	wStamp []int32 // last merge that visited the word

	pairIdx map[uint64]int32
	pairs   []pairRec
	heap    []int32 // pair indices, max-heap by (count, then smaller a, then smaller b)
	touched []int32

	vocab   []string // id -> bytes
	byBytes map[string]int32
	merges  []Merge
}

func newTrainer(cfg TrainConfig) (*trainer, error) {
	if cfg.Pattern == "" {
		cfg.Pattern = CL100kPattern
	}
	sp, err := newSplitter(cfg.Pattern)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, s := range cfg.Special {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("tokenizer: special tokens must be non-empty and distinct, got %q", cfg.Special)
		}
		seen[s] = true
	}
	if cfg.VocabSize < 256+len(cfg.Special) {
		return nil, fmt.Errorf("tokenizer: vocabulary size %d is less than 256 bytes + %d specials", cfg.VocabSize, len(cfg.Special))
	}
	return &trainer{cfg: cfg, split: sp, freq: make(map[string]int64)}, nil
}

// count adds the pieces of text, with the special tokens cut out, to the piece frequencies.
func (tr *trainer) count(text string) {
	for len(text) > 0 {
		cut, skip := len(text), 0
		for _, s := range tr.cfg.Special {
			if i := strings.Index(text[:min(len(text), cut+len(s))], s); i >= 0 && i < cut {
				cut, skip = i, len(s)
			}
		}
		seg := text[:cut]
		tr.split.each(seg, func(start, end int) {
			p := seg[start:end]
			if c, ok := tr.freq[p]; ok {
				tr.freq[p] = c + 1
			} else {
				tr.freq[strings.Clone(p)] = 1 // don't keep the whole text alive through one key
			}
		})
		text = text[cut+skip:]
	}
}

func (tr *trainer) train(ctx context.Context) (*BPE, error) {
	tr.vocab = make([]string, 256)
	tr.byBytes = make(map[string]int32, tr.cfg.VocabSize)
	for b := range 256 {
		tr.vocab[b] = string([]byte{byte(b)})
		tr.byBytes[tr.vocab[b]] = int32(b)
	}
	tr.buildWords()
	target := tr.cfg.VocabSize - len(tr.cfg.Special)
	for stamp := int32(1); len(tr.vocab) < target; stamp++ {
		if stamp%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if len(tr.heap) == 0 {
			return nil, fmt.Errorf("tokenizer: the training text allows only %d merged tokens, too few for a vocabulary of %d", len(tr.vocab)-256, tr.cfg.VocabSize)
		}
		tr.mergeBest(stamp)
	}
	ranks := make(map[string]int, len(tr.vocab))
	for id, s := range tr.vocab {
		ranks[s] = id
	}
	special := make(map[string]int, len(tr.cfg.Special))
	for i, s := range tr.cfg.Special {
		special[s] = len(tr.vocab) + i
	}
	t, err := New(ranks, special, tr.cfg.Pattern)
	if err != nil {
		return nil, err
	}
	t.merges = tr.merges
	return t, nil
}

// buildWords turns the distinct pieces into byte-token sequences and counts their pairs.
func (tr *trainer) buildWords() {
	pieces := make([]string, 0, len(tr.freq))
	total := 0
	for p := range tr.freq {
		pieces = append(pieces, p)
		total += len(p)
	}
	slices.Sort(pieces) // a fixed word order keeps runs reproducible in memory use and timing too
	tr.syms = make([]int32, 0, total)
	tr.pairIdx = make(map[uint64]int32)
	for w, p := range pieces {
		tr.wStart = append(tr.wStart, int32(len(tr.syms)))
		tr.wLen = append(tr.wLen, int32(len(p)))
		f := tr.freq[p]
		tr.wFreq = append(tr.wFreq, f)
		for i := 0; i < len(p); i++ {
			tr.syms = append(tr.syms, int32(p[i]))
			if i > 0 {
				q := tr.pair(int32(p[i-1]), int32(p[i]))
				tr.pairs[q].count += f
				tr.addWord(q, int32(w))
			}
		}
	}
	tr.wStamp = make([]int32, len(pieces))
	tr.freq = nil
	for q := range tr.pairs {
		tr.heapPush(int32(q))
	}
}

// pair returns the index of pair (a, b), creating it with count 0.
func (tr *trainer) pair(a, b int32) int32 {
	key := uint64(uint32(a))<<32 | uint64(uint32(b))
	if q, ok := tr.pairIdx[key]; ok {
		return q
	}
	q := int32(len(tr.pairs))
	tr.pairs = append(tr.pairs, pairRec{a: a, b: b, heapPos: -1})
	tr.pairIdx[key] = q
	return q
}

func (tr *trainer) addWord(q, w int32) {
	ws := tr.pairs[q].words
	if len(ws) == 0 || ws[len(ws)-1] != w {
		tr.pairs[q].words = append(ws, w)
	}
}

func (tr *trainer) change(a, b int32, d int64, w int32) {
	q := tr.pair(a, b)
	p := &tr.pairs[q]
	if !p.touched {
		p.touched = true
		tr.touched = append(tr.touched, q)
	}
	p.delta += d
	if d > 0 {
		tr.addWord(q, w)
	}
}

// mergeBest merges the most frequent pair everywhere and updates the counts of the pairs around it.
func (tr *trainer) mergeBest(stamp int32) {
	q := tr.heap[0]
	a, b := tr.pairs[q].a, tr.pairs[q].b
	s := tr.vocab[a] + tr.vocab[b]
	c, ok := tr.byBytes[s]
	if !ok {
		c = int32(len(tr.vocab))
		tr.vocab = append(tr.vocab, s)
		tr.byBytes[s] = c
	}
	tr.merges = append(tr.merges, Merge{int(a), int(b), int(c)})

	words := tr.pairs[q].words
	tr.pairs[q].words = nil
	for _, w := range words {
		if tr.wStamp[w] == stamp {
			continue
		}
		tr.wStamp[w] = stamp
		tr.mergeWord(w, a, b, c)
	}
	for _, q := range tr.touched {
		p := &tr.pairs[q]
		p.count += p.delta
		p.delta, p.touched = 0, false
		switch {
		case p.count > 0 && p.heapPos < 0:
			tr.heapPush(q)
		case p.count > 0:
			tr.heapFix(p.heapPos)
		case p.heapPos >= 0:
			tr.heapRemove(p.heapPos)
			p.words = nil
		default:
			p.words = nil
		}
	}
	tr.touched = tr.touched[:0]
}

// mergeWord replaces the occurrences of (a, b) in word w, left to right without overlap ("aaa" with
// (a, a) gives [aa a]), recording how the counts of the neighbouring pairs change. It rewrites the
// word in place: the write index j never passes the read index i.
func (tr *trainer) mergeWord(w, a, b, c int32) {
	s := tr.syms[tr.wStart[w] : tr.wStart[w]+tr.wLen[w]]
	f := tr.wFreq[w]
	n, j := len(s), 0
	for i := 0; i < n; {
		if i+1 < n && s[i] == a && s[i+1] == b {
			if j > 0 {
				tr.change(s[j-1], a, -f, w)
				tr.change(s[j-1], c, f, w)
			}
			tr.change(a, b, -f, w)
			if i+2 < n {
				tr.change(b, s[i+2], -f, w)
				tr.change(c, s[i+2], f, w)
			}
			s[j] = c
			j++
			i += 2
			continue
		}
		s[j] = s[i]
		j++
		i++
	}
	tr.wLen[w] = int32(j)
}

// The heap: an indexed binary max-heap of pair indices.

func (tr *trainer) above(x, y int32) bool {
	p, q := &tr.pairs[x], &tr.pairs[y]
	if p.count != q.count {
		return p.count > q.count
	}
	if p.a != q.a {
		return p.a < q.a
	}
	return p.b < q.b
}

func (tr *trainer) heapSet(i int, q int32) {
	tr.heap[i] = q
	tr.pairs[q].heapPos = int32(i)
}

func (tr *trainer) heapPush(q int32) {
	tr.heap = append(tr.heap, q)
	tr.heapSet(len(tr.heap)-1, q)
	tr.up(len(tr.heap) - 1)
}

func (tr *trainer) heapRemove(pos int32) {
	i := int(pos)
	last := len(tr.heap) - 1
	tr.pairs[tr.heap[i]].heapPos = -1
	if i != last {
		tr.heapSet(i, tr.heap[last])
	}
	tr.heap = tr.heap[:last]
	if i < last {
		tr.heapFix(int32(i))
	}
}

func (tr *trainer) heapFix(pos int32) {
	if !tr.up(int(pos)) {
		tr.down(int(pos))
	}
}

func (tr *trainer) up(i int) bool {
	moved := false
	for i > 0 {
		p := (i - 1) / 2
		if !tr.above(tr.heap[i], tr.heap[p]) {
			break
		}
		x, y := tr.heap[i], tr.heap[p]
		tr.heapSet(i, y)
		tr.heapSet(p, x)
		i, moved = p, true
	}
	return moved
}

func (tr *trainer) down(i int) {
	n := len(tr.heap)
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && tr.above(tr.heap[l], tr.heap[m]) {
			m = l
		}
		if r < n && tr.above(tr.heap[r], tr.heap[m]) {
			m = r
		}
		if m == i {
			return
		}
		x, y := tr.heap[i], tr.heap[m]
		tr.heapSet(i, y)
		tr.heapSet(m, x)
		i = m
	}
}
