package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/goformer/goformer/tokenizer"
)

// lettersLesson: text becomes numbers.
func lettersLesson(ctx context.Context, e *env) error {
	e.para(`A network only handles numbers, so text must become numbers first. The simplest way: list
		every different character of the text, in order, and give each its place in the list as its
		number (its id). The list is the vocabulary; turning text into ids is encoding, and turning
		ids back into text is decoding.`)
	e.printf("Code: tokenizer/char.go (NewChar, Encode, Decode).\n\n")

	tok := tokenizer.NewChar(rhyme)
	e.printf("The vocabulary of the rhyme: %d characters (␣ is a space, ⏎ a new line):\n", tok.VocabSize())
	var row []string
	for id := range tok.VocabSize() {
		c, err := tok.Decode([]int{id})
		if err != nil {
			return err
		}
		row = append(row, fmt.Sprintf("%s=%-2d", show(c), id))
		if len(row) == 10 || id == tok.VocabSize()-1 {
			e.printf("  %s\n", strings.TrimRight(strings.Join(row, "  "), " "))
			row = row[:0]
		}
	}

	sentence := "Humpty Dumpty sat on a wall,"
	ids, err := tok.EncodeStrict(sentence)
	if err != nil {
		return err
	}
	e.printf("\nThe sentence %q as ids:\n  %v\n", sentence, ids)
	back, err := tok.Decode(ids)
	if err != nil {
		return err
	}
	e.printf("and back: %q\n\n", back)
	if back != sentence {
		return fmt.Errorf("decoding gave %q, not %q", back, sentence)
	}
	e.para(`The ids are only names: that 'H' is 8 and 'a' is 9 says nothing about the letters. Step 4 gives
		every id a list of numbers (a vector) that the network can learn, and step 5 makes tokens out
		of pieces of words instead of single characters, so that a text needs fewer of them.
		Tiny Shakespeare, the text of the later steps, has 65 different characters.`)
	return nil
}
