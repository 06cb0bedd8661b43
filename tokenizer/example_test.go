package tokenizer_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/goformer/goformer/tokenizer"
	"github.com/goformer/goformer/tokenizer/cl100k"
	"github.com/goformer/goformer/tokenizer/gpt2"
)

func Example() {
	enc, err := gpt2.Encoding()
	if err != nil {
		panic(err)
	}
	ids := enc.Encode("Hello, world!")
	fmt.Println(ids)
	text, _ := enc.Decode(ids)
	fmt.Println(text)
	// Output:
	// [15496 11 995 0]
	// Hello, world!
}

func ExampleBPE_EncodeSpecial() {
	enc, _ := cl100k.Encoding()
	text := "end<|endoftext|>"
	// Encode treats a special token's string as ordinary text...
	fmt.Println(len(enc.Encode(text)) > 2)
	// ...EncodeSpecial recognises the specials it is allowed.
	ids, err := enc.EncodeSpecial(text, []string{cl100k.EndOfText})
	fmt.Println(ids, err)
	// Output:
	// true
	// [408 100257] <nil>
}

func ExampleTrain() {
	text := strings.Repeat("low lower lowest newer newest wider widest ", 20)
	enc, err := tokenizer.Train(context.Background(), text, tokenizer.TrainConfig{VocabSize: 256 + 6})
	if err != nil {
		panic(err)
	}
	for _, m := range enc.Merges() {
		l, _ := enc.TokenBytes(m.Left)
		r, _ := enc.TokenBytes(m.Right)
		fmt.Printf("%q + %q\n", l, r)
	}
	// Worked by hand: "we" occurs in lower, lowest, newer and newest (80 times); then "lo" and "st"
	// tie at 60 and the smaller left id ('l' < 's') goes first; then " lo" (59); then " n" and " w"
	// tie at 40 with the smallest left id (' ') and " n" has the smaller right id.

	// Output:
	// "w" + "e"
	// "l" + "o"
	// "s" + "t"
	// " " + "lo"
	// " " + "n"
	// " " + "w"
}

func ExampleChar() {
	c := tokenizer.NewChar("hello world")
	fmt.Printf("%d %q\n", c.VocabSize(), c.Vocab())
	ids := c.Encode("hold")
	fmt.Println(ids)
	saved := c.Vocab() // e.g. stored in a checkpoint
	restored, _ := tokenizer.CharFromVocab(saved)
	text, _ := restored.Decode(ids)
	fmt.Println(text)
	// Output:
	// 8 " dehlorw"
	// [3 5 4 1]
	// hold
}

func ExampleStreamDecoder() {
	enc, _ := gpt2.Encoding()
	d := tokenizer.NewStreamDecoder(enc)
	for _, id := range enc.Encode("añ🙂!") {
		s, _ := d.Add(id) // tokens may end mid-character; d holds those bytes back
		fmt.Printf("%q ", s)
	}
	fmt.Printf("%q\n", d.Flush())
	// Output:
	// "a" "ñ" "" "🙂" "!" ""
}
