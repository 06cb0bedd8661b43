package main

import (
	"strings"
)

// Stop strings: the text side of ending an answer.

// stopMatcher cuts generated text at the first of a request's stop strings. It holds back any
// tail that could still grow into a stop string, so streamed text never shows part of one.
type stopMatcher struct {
	stops   []string
	text    strings.Builder
	emitted int // bytes of text already handed out
}

// add appends piece and returns the text that is now safe to hand out, and whether a stop string
// has been found (the returned text then ends just before it).
func (s *stopMatcher) add(piece string) (string, bool) {
	s.text.WriteString(piece)
	all := s.text.String()
	longest := 0
	for _, stop := range s.stops {
		longest = max(longest, len(stop))
	}
	from := max(0, s.emitted-longest)
	cut := -1
	for _, stop := range s.stops {
		if stop == "" {
			continue
		}
		if i := strings.Index(all[from:], stop); i >= 0 && (cut < 0 || from+i < cut) {
			cut = from + i
		}
	}
	if cut >= 0 {
		out := all[s.emitted:max(cut, s.emitted)]
		s.emitted = len(all)
		return out, true
	}
	safe := len(all) - s.heldBack(all)
	out := all[s.emitted:max(safe, s.emitted)]
	s.emitted = max(safe, s.emitted)
	return out, false
}

// heldBack is the length of the longest suffix of all that is a proper prefix of a stop string.
func (s *stopMatcher) heldBack(all string) int {
	held := 0
	for _, stop := range s.stops {
		for n := min(len(stop)-1, len(all)); n > held; n-- {
			if strings.HasSuffix(all, stop[:n]) {
				held = n
				break
			}
		}
	}
	return held
}

// flush returns what was held back, at the end of generation.
func (s *stopMatcher) flush() string {
	all := s.text.String()
	out := all[s.emitted:]
	s.emitted = len(all)
	return out
}
